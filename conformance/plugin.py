"""The pytest plugin of the conformance suite: target options, check IDs and levels, fixtures,
verdicts, reports.

Options (some also from the environment):

- ``--rest-url`` / ``--ws-url`` (``CHATSTACK_REST_URL`` / ``CHATSTACK_WS_URL``): the stage.
- ``--stage FILE`` (``CHATSTACK_STAGE_FILE``): a stage file, the local stage's or
  ``terraform output -json``.
- ``--jwt-secret`` (``CHATSTACK_CONFORMANCE_JWT_SECRET``): lets SEC-006 forge an expired token.
- ``--jwt-secret-param`` (``CHATSTACK_CONFORMANCE_JWT_SECRET_PARAM``): the SSM parameter holding
  that key on a deployed stage, read with the caller's own AWS credentials.
- ``--profile`` (``CHATSTACK_CONFORMANCE_PROFILE``): profiles the stage implements
  (default ``core,chats,receipts,media``: contract v3 with files; ``core`` alone for v1).
- ``--conformance-timeout`` (``CHATSTACK_CONFORMANCE_TIMEOUT``): seconds per wait (default 5).
- ``--conformance-strict`` (``chatstack conform --strict``): a failed SHOULD check, or a listed
  check that passed, fails the run.
- ``--expect-fail FILE``: checks expected to fail, each with a reason (``expectations``).
- ``--max-rest-p95-ms`` (200), ``--max-connect-p95-ms`` (300), ``--max-send-p95-ms`` (100),
  ``--max-broadcast-p95-ms`` (200): the latency SHOULD checks' limits (seed 001's figures).
- ``--idle-timeout`` / ``--max-connection-duration``: seconds after which the target closes idle
  / old connections, when it was started with shorter limits than API Gateway's (LIFE-005/006).
- ``--max-url-wait`` (60): seconds MEDIA-014 may wait for a presigned URL to expire; a target
  whose URLs live longer has it skipped.
- ``--results-json FILE``, ``--conformance-junit-xml FILE`` (``chatstack conform
  --junit-xml``), ``--html-report FILE``: the reports.

With no target, a local stage is started for the run (``chatstack up``) and stopped after.
Every check carries a requirement level, ``MUST`` or ``SHOULD`` (RFC 2119): ``@check("AUTH-001",
MUST)``. Verdicts are kept apart (``conformance.verdicts``): *failed* (the stage broke the
requirement; a SHOULD failure is counted apart and fails the run only with ``--strict``),
*skipped* (a profile or capability the stage or run does not offer — never a pass), *error* (the
harness could not run the check: ``conformance.errors``, in any phase), *xfailed* / *xpassed*
(listed in ``--expect-fail``). The exit code follows ``verdicts.exit_code``. A check that does
not pass keeps what it exchanged with the stage (``conformance.trace``), redacted, for the
reports.
"""

from __future__ import annotations

import datetime
import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets

from conformance import trace
from conformance.client import PASSWORD, Peer, Rest, User
from conformance.errors import HarnessError, PreconditionFailed, TargetError
from conformance.expectations import ExpectationError, read_expectations
from conformance.report_html import write_html_report
from conformance.report_junit import write_junit
from conformance.report_text import summary_lines
from conformance.target import LocalStage, Target, probe, read_signing_key, resolve
from conformance.trace import Redactor
from conformance.verdicts import EXIT_CODES, LEVELS, MUST, SHOULD, exit_code, worst

__all__ = ["AREAS", "MUST", "SHOULD", "check", "declared_profiles"]

AREAS = {
    "AUTH": "auth",
    "CONN": "connect",
    "ROUTE": "routes",
    "BCAST": "broadcast",
    "HIST": "history",
    "LIFE": "lifecycle",
    "LIMIT": "limits",
    "SEC": "security",
    "LAT": "latency",
    "ROOM": "rooms",
    "CHAT": "chats",
    "RCPT": "receipts",
    "TYPE": "typing",
    "PRES": "presence",
    "MEDIA": "media",
}
DEFAULT_PROFILES = "core,chats,receipts,media"

# Seed 001's latency figures (REST 100-200 ms, connect 200-300, send 50-100, broadcast 100-200):
# the upper ends are the default p95 limits of the LAT checks.
LATENCY_LIMITS_MS = {"rest": 200.0, "connect": 300.0, "send": 100.0, "broadcast": 200.0}


def check(check_id: str, level: str, profile: str = "core") -> pytest.MarkDecorator:
    """Mark a check with its stable ID (``AREA-NNN``), its level (``MUST`` or ``SHOULD``, as
    the contract's clause it checks) and its profile."""
    prefix = check_id.split("-")[0]
    if prefix not in AREAS:
        raise ValueError(f"unknown check area in {check_id!r}")
    if level not in LEVELS:
        raise ValueError(f"{check_id}: level must be one of {LEVELS}, not {level!r}")
    return pytest.mark.check(check_id, level, profile)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chatstack conformance")
    group.addoption("--rest-url", help="the stage's REST API URL")
    group.addoption("--ws-url", help="the stage's WebSocket API URL")
    group.addoption("--stage", dest="stage_file", help="a stage file (either shape)")
    group.addoption("--jwt-secret", help="the stage's signing key (enables SEC-006)")
    group.addoption(
        "--jwt-secret-param",
        help="an SSM parameter holding the signing key, read with your AWS credentials",
    )
    group.addoption(
        "--profile", help=f"comma-separated profiles the stage implements ({DEFAULT_PROFILES})"
    )
    group.addoption("--conformance-timeout", type=float, help="seconds per wait (default 5)")
    group.addoption("--results-json", help="write every check's verdict to this file")
    group.addoption("--conformance-junit-xml", help="write JUnit XML to this file")
    group.addoption("--html-report", help="write a self-contained HTML report to this file")
    group.addoption("--expect-fail", help="checks expected to fail: `ID reason` per line")
    group.addoption(
        "--conformance-strict",
        action="store_true",
        help="a failed SHOULD check fails the run too (`chatstack conform --strict`)",
    )
    for name, default in LATENCY_LIMITS_MS.items():
        group.addoption(
            f"--max-{name}-p95-ms",
            type=float,
            default=default,
            help=f"{name} latency p95 limit of its SHOULD check (default {default:.0f} ms)",
        )
    group.addoption(
        "--idle-timeout", type=float, help="seconds after which the target closes idle connections"
    )
    group.addoption(
        "--max-connection-duration",
        type=float,
        help="seconds after which the target closes any connection",
    )
    group.addoption(
        "--max-url-wait",
        type=float,
        default=60.0,
        help="seconds MEDIA-014 may wait for a presigned URL to expire (default 60)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "check(id, level, profile): a conformance check, its ID and level"
    )
    expected: dict[str, str] = {}
    if config.getoption("expect_fail", None):
        try:
            expected = read_expectations(config.getoption("expect_fail"))
        except ExpectationError as exc:
            raise pytest.UsageError(str(exc)) from None
    config.pluginmanager.register(Reporter(config, expected), "chatstack-conformance-reporter")


def declared_profiles(config: pytest.Config) -> set[str]:
    """The profiles the run checks (``--profile``; default ``DEFAULT_PROFILES``)."""
    return _profiles(config)


def _profiles(config: pytest.Config) -> set[str]:
    raw = (
        config.getoption("profile")
        or os.environ.get("CHATSTACK_CONFORMANCE_PROFILE")
        or DEFAULT_PROFILES
    )
    return {p.strip() for p in raw.split(",") if p.strip()}


def _requirement(function: Any) -> str:
    """The first paragraph of a check's docstring, on one line."""
    doc = (function.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in doc.splitlines())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    owners: dict[str, str] = {}
    declared = _profiles(config)
    for item in items:
        marker = item.get_closest_marker("check")
        if marker is None:
            raise pytest.UsageError(f"{item.nodeid} has no @check(ID, level)")
        check_id, level, profile = marker.args
        function = getattr(item, "originalname", item.name)
        owner = f"{item.module.__name__}.{function}"  # type: ignore[attr-defined]
        if owners.setdefault(check_id, owner) != owner:
            raise pytest.UsageError(
                f"check ID {check_id} is used by {owners[check_id]} and {owner}"
            )
        item.extra_keyword_matches.update({check_id, AREAS[check_id.split("-")[0]]})
        item.user_properties += [
            ("check_id", check_id),
            ("area", AREAS[check_id.split("-")[0]]),
            ("level", level),
            ("profile", profile),
            ("requirement", _requirement(item.function)),  # type: ignore[attr-defined]
        ]
        if profile not in declared:
            item.add_marker(pytest.mark.skip(reason=f"profile {profile!r} not declared by stage"))
    unknown = set(_reporter(config).expected) - set(owners)
    if unknown:
        raise pytest.UsageError(
            f"--expect-fail lists checks the suite does not have: {', '.join(sorted(unknown))}"
        )


# -- per check: its trace, and what its report carries -------------------------------------


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    trace.begin()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Any:
    yield
    trace.end()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Give each check's report its verdict facts (``report.chatstack``): a harness fault in any
    phase is an error; a listed check's failure is expected (``xfailed``), its pass unexpected;
    a report that did not pass carries its redacted message, traceback and trace."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    check_id = dict(item.user_properties).get("check_id")
    if check_id is None:
        return
    reporter = _reporter(item.config)
    info: dict[str, Any] = {}
    if report.failed:
        redact = reporter.redactor
        info["message"] = redact.text(_message(report))
        info["details"] = redact.text(str(report.longrepr))
        report.longrepr = info["details"]
        recorded = trace.current()
        if recorded is not None:
            info["trace"] = redact.events(recorded.as_list())
        if call.excinfo is not None and call.excinfo.errisinstance(HarnessError):
            info["harness_error"] = True
        elif report.when == "call" and check_id in reporter.expected:
            report.outcome = "skipped"
            report.wasxfail = reporter.expected[check_id]  # type: ignore[attr-defined]
            info["expected"] = True
    elif report.when == "call" and report.passed and check_id in reporter.expected:
        report.wasxfail = reporter.expected[check_id]  # type: ignore[attr-defined]
        info["expected"] = True
    elif report.skipped:
        info["message"] = _message(report)
    report.chatstack = info  # type: ignore[attr-defined]


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """A harness fault inside a check's body is shown as an error, not as a failure."""
    if report.failed and getattr(report, "chatstack", {}).get("harness_error"):
        return "error", "E", "ERROR"
    return None


def _case_outcome(report: pytest.TestReport, info: dict[str, Any]) -> str:
    if report.when != "call":
        return "error" if report.failed else "skipped"
    if report.failed:
        return "error" if info.get("harness_error") else "failed"
    if info.get("expected"):
        return "xfailed" if report.skipped else "xpassed"
    return report.outcome


class Reporter:
    """Collects every case's outcome, decides the verdicts and the exit code, writes reports."""

    def __init__(self, config: pytest.Config, expected: dict[str, str]) -> None:
        self.config = config
        self.expected = expected
        self.cases: dict[str, dict[str, Any]] = {}
        self.latencies: list[float] = []
        self.target: dict[str, str] | None = None
        self.exit_code: int | None = None
        self.redactor = Redactor([PASSWORD])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        if "check_id" not in properties:
            return
        info: dict[str, Any] = getattr(report, "chatstack", None) or {}
        case = self.cases.setdefault(
            report.nodeid,
            {
                **{k: properties[k] for k in ("check_id", "area", "level", "profile")},
                "requirement": properties["requirement"],
                "name": report.nodeid.split("::")[-1],
                "nodeid": report.nodeid,
                "outcome": "passed",
                "duration": 0.0,
                "message": "",
            },
        )
        if report.when == "call":
            case["duration"] = round(report.duration, 3)
            if "broadcast_latency_ms" in properties:
                self.latencies.extend(json.loads(properties["broadcast_latency_ms"]))
            if "measured" in properties:
                case["measured"] = json.loads(properties["measured"])
        if report.when == "teardown" and not report.failed:
            return
        if report.when == "teardown" and case["outcome"] in ("failed", "error"):
            return  # the call's own failure says more than the cleanup's
        if report.when == "setup" and report.passed:
            return
        case["outcome"] = _case_outcome(report, info)
        for key in ("message", "details", "trace"):
            if key in info:
                case[key] = info[key]

    @property
    def strict(self) -> bool:
        return bool(self.config.getoption("conformance_strict"))

    def verdicts(self) -> dict[str, dict[str, Any]]:
        """One verdict per check ID, the worst of its cases (``verdicts.worst``)."""
        cases: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for case in self.cases.values():
            cases[case["check_id"]].append(case)
        verdicts = {}
        for check_id, entries in cases.items():
            outcome = worst(e["outcome"] for e in entries)
            first = next(e for e in entries if e["outcome"] == outcome)
            measured = next((e["measured"] for e in entries if e.get("measured")), None)
            verdicts[check_id] = {
                **{k: first[k] for k in ("check_id", "area", "level", "profile", "requirement")},
                "outcome": outcome,
                "message": first.get("message", ""),
                "duration": round(sum(e["duration"] for e in entries), 3),
                "expected_failure": self.expected.get(check_id),
                "measured": measured,
                "cases": [
                    {k: v for k, v in e.items() if k not in ("check_id", "area", "level")}
                    for e in entries
                ],
            }
        return dict(sorted(verdicts.items()))

    def results(self) -> dict[str, Any]:
        """Everything the reports show (the ``--results-json`` document)."""
        option = self.config.getoption
        settings: dict[str, Any] = {
            "timeout_s": option("conformance_timeout")
            or float(os.environ.get("CHATSTACK_CONFORMANCE_TIMEOUT") or 5.0)
        }
        for name in LATENCY_LIMITS_MS:
            settings[f"max_{name}_p95_ms"] = option(f"max_{name}_p95_ms")
        for name in ("idle_timeout", "max_connection_duration", "expect_fail"):
            if option(name):
                settings[name] = option(name)
        code = self.exit_code
        return {
            "suite": "chatstack conformance",
            "generated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "target": self.target,
            "profiles": sorted(_profiles(self.config)),
            "strict": self.strict,
            "settings": settings,
            "exit_code": code,
            "exit_meaning": EXIT_CODES.get(code) if code is not None else None,
            "checks": self.verdicts(),
            "broadcast_latency_ms": sorted(self.latencies),
        }

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.cases:
            return
        if exitstatus in (0, 1):  # else interrupted, a usage or internal error: pytest's code
            self.exit_code = exit_code(self.verdicts().values(), self.strict)
            session.exitstatus = self.exit_code
        results = self.results()
        option = self.config.getoption
        if option("results_json"):
            Path(option("results_json")).write_text(
                json.dumps(results, indent=2, ensure_ascii=False), errors="replace"
            )
        if option("conformance_junit_xml"):
            write_junit(results, option("conformance_junit_xml"))
        if option("html_report"):
            write_html_report(results, list(AREAS.values()), option("html_report"))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.cases:
            return
        terminalreporter.section("chatstack conformance")
        for line in summary_lines(self.results(), list(AREAS.values())):
            terminalreporter.write_line(line)


def _message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (file, line, reason)
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    return str(crash.message if crash is not None else longrepr)


def _reporter(config: pytest.Config) -> Reporter:
    return config.pluginmanager.get_plugin("chatstack-conformance-reporter")  # type: ignore[return-value]


LOCAL_SOURCE = "a local stage started for this run"


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def conformance_timeout(pytestconfig: pytest.Config) -> float:
    value = pytestconfig.getoption("conformance_timeout")
    return float(value or os.environ.get("CHATSTACK_CONFORMANCE_TIMEOUT") or 5.0)


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config, conformance_timeout: float) -> Iterator[Target]:
    """The stage under test; a local stage is started when none is given. A stage that cannot
    be determined, started or reached is a harness error for every check."""
    option = pytestconfig.getoption
    local: LocalStage | None = None
    try:
        given = resolve(
            option("rest_url"),
            option("ws_url"),
            option("stage_file"),
            option("jwt_secret"),
            option("jwt_secret_param"),
        )
        if given is None:
            local = LocalStage()
            given = Target(local.rest_url, local.ws_url, LOCAL_SOURCE, local.jwt_secret)
        reporter = _reporter(pytestconfig)
        reporter.target = {
            "rest_url": given.rest_url,
            "ws_url": given.ws_url,
            "source": given.source,
        }
        reporter.redactor.add(given.jwt_secret)
        probe(given, conformance_timeout)
    except HarnessError as exc:
        if local is not None:
            local.stop()
        raise type(exc)(f"harness: {exc}") from None
    yield given
    if local is not None:
        local.stop()


@pytest.fixture(scope="session")
def signing_key(pytestconfig: pytest.Config, target: Target) -> str:
    """The stage's JWT key: given, or read from SSM by name; the checks needing it are skipped
    when neither was given, and are harness errors when the parameter cannot be read."""
    if target.jwt_secret:
        return target.jwt_secret
    if not target.jwt_secret_param:
        pytest.skip(
            "needs the stage's signing key: pass --jwt-secret, or --jwt-secret-param NAME to "
            "read it from SSM with your AWS credentials"
        )
    try:
        key = read_signing_key(target.jwt_secret_param, target.rest_url)
    except TargetError as exc:
        raise TargetError(f"harness: {exc}") from None
    _reporter(pytestconfig).redactor.add(key)
    return key


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(scope="session")
def rest(http: aiohttp.ClientSession, target: Target, conformance_timeout: float) -> Rest:
    return Rest(http, target.rest_url, conformance_timeout)


@pytest.fixture
async def user(rest: Rest) -> User:
    return await rest.new_user("alice")


@pytest.fixture
async def connect(
    target: Target, conformance_timeout: float
) -> AsyncIterator[Callable[[User], Awaitable[Peer]]]:
    """Open connections for a check; all are closed after it."""
    opened: list[Peer] = []

    async def open_peer(who: User) -> Peer:
        try:
            peer = await Peer.connect(target.ws_url, who.token, conformance_timeout)
        except websockets.InvalidStatus as refused:
            status = refused.response.status_code
            raise PreconditionFailed(
                f"precondition: a valid token's handshake was refused with HTTP {status}"
            ) from None
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        await peer.close()


@pytest.fixture
async def peer(connect: Callable[[User], Awaitable[Peer]], user: User) -> Peer:
    return await connect(user)


@pytest.fixture
def record_latencies(record_property: Callable[[str, Any], None]) -> Callable[[list[float]], None]:
    """Report send-to-receive latencies (ms) for the run's summary."""

    def record(values: list[float]) -> None:
        record_property("broadcast_latency_ms", json.dumps([round(v, 2) for v in values]))

    return record


@pytest.fixture(scope="session")
def latency_limits(pytestconfig: pytest.Config) -> dict[str, float]:
    """The p95 limits (ms) of the latency checks: ``rest``, ``connect``, ``send``, ``broadcast``."""
    return {name: pytestconfig.getoption(f"max_{name}_p95_ms") for name in LATENCY_LIMITS_MS}


@pytest.fixture
def record_measurement(
    record_property: Callable[[str, Any], None],
) -> Callable[[str, dict[str, Any]], None]:
    """Report a check's measured value (shown whether it passed or not): a one-line summary and
    the figures."""

    def record(summary: str, figures: dict[str, Any]) -> None:
        record_property("measured", json.dumps({"summary": summary, **figures}))

    return record


@dataclass(frozen=True)
class StageLimits:
    """A stage whose connection limits are short enough to wait for, and those limits."""

    ws_url: str
    rest: Rest
    idle_timeout: float | None
    max_connection_duration: float | None


# The limits of the stage the suite starts for LIFE-005/006 when it starts its own.
SHORT_LIMITS = {"idle_timeout": 2.0, "max_connection_duration": 4.0}
# The life of presigned URLs on the stage the suite starts for MEDIA-014 (seconds).
SHORT_URL_LIFE = 4


@pytest.fixture(scope="session")
def stage_limits(
    pytestconfig: pytest.Config,
    target: Target,
    http: aiohttp.ClientSession,
    conformance_timeout: float,
) -> Iterator[StageLimits]:
    """The stage for the idle and maximum-duration checks. When the suite started its own
    local stage, a second one with short limits (``SHORT_LIMITS``): waiting 10 minutes or 2 hours
    is out of the question, and short limits would cut the other checks' connections. Else the
    target, with the limits ``--idle-timeout`` / ``--max-connection-duration`` declare."""
    if target.source == LOCAL_SOURCE:
        local = LocalStage(
            # Connection limits do not depend on the database: the lighter embedded one will do.
            "--dynamodb",
            "moto",
            "--idle-timeout",
            str(SHORT_LIMITS["idle_timeout"]),
            "--max-connection-duration",
            str(SHORT_LIMITS["max_connection_duration"]),
        )
        try:
            yield StageLimits(
                local.ws_url, Rest(http, local.rest_url, conformance_timeout), **SHORT_LIMITS
            )
        finally:
            local.stop()
        return
    yield StageLimits(
        target.ws_url,
        Rest(http, target.rest_url, conformance_timeout),
        pytestconfig.getoption("idle_timeout"),
        pytestconfig.getoption("max_connection_duration"),
    )


@dataclass(frozen=True)
class UrlLifeStage:
    """The stage for MEDIA-014 (URLs expire): its WebSocket URL and REST API."""

    ws_url: str
    rest: Rest


@pytest.fixture(scope="session")
def url_life_stage(
    target: Target, http: aiohttp.ClientSession, conformance_timeout: float
) -> Iterator[UrlLifeStage]:
    """When the suite started its own local stage, a second one whose presigned URLs live
    ``SHORT_URL_LIFE`` seconds (waiting 5 minutes is out of the question, and URLs that short
    would fail the other checks' uploads); else the target (MEDIA-014 then waits up to
    ``--max-url-wait``)."""
    if target.source == LOCAL_SOURCE:
        local = LocalStage("--dynamodb", "moto", "--media-url-ttl", str(SHORT_URL_LIFE))
        try:
            yield UrlLifeStage(local.ws_url, Rest(http, local.rest_url, conformance_timeout))
        finally:
            local.stop()
        return
    yield UrlLifeStage(target.ws_url, Rest(http, target.rest_url, conformance_timeout))
