"""The pytest plugin of the conformance suite: target options, check IDs, fixtures, summary.

Options (each also from the environment):

- ``--rest-url`` / ``--ws-url`` (``CHATSTACK_REST_URL`` / ``CHATSTACK_WS_URL``): the stage.
- ``--stage FILE`` (``CHATSTACK_STAGE_FILE``): a stage file, the local stage's or
  ``terraform output -json``.
- ``--jwt-secret`` (``CHATSTACK_CONFORMANCE_JWT_SECRET``): lets SEC-006 forge an expired token.
- ``--jwt-secret-param`` (``CHATSTACK_CONFORMANCE_JWT_SECRET_PARAM``): the SSM parameter holding
  that key on a deployed stage, read with the caller's own AWS credentials.
- ``--profile`` (``CHATSTACK_CONFORMANCE_PROFILE``): profiles the stage implements (``core``).
- ``--conformance-timeout`` (``CHATSTACK_CONFORMANCE_TIMEOUT``): seconds per wait (default 5).
- ``--results-json FILE``: every check's verdict, the target and the latencies, as JSON.
- ``--conformance-strict`` (``chatstack conform --strict``): a failed SHOULD check fails the run.

With no target, a local stage is started for the run (``chatstack up``) and stopped after.
Every check carries a requirement level, ``MUST`` or ``SHOULD`` (RFC 2119): ``@check("AUTH-001",
MUST)``. Verdicts are kept apart (``conformance.verdicts``): *failed* (the stage broke the
requirement; a SHOULD failure is counted apart and fails the run only with ``--strict``),
*skipped* (a profile or capability the stage or run does not offer — never a pass), *error* (the
harness could not run the check). The exit code follows ``verdicts.exit_code``.
"""

from __future__ import annotations

import json
import os
import statistics
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conformance.client import Peer, Rest, User
from conformance.target import LocalStage, Target, TargetError, read_signing_key, resolve
from conformance.verdicts import (
    EXIT_CODES,
    LEVELS,
    MUST,
    OUTCOMES,
    SHOULD,
    counts_by_area_and_level,
    exit_code,
    worst,
)

__all__ = ["AREAS", "MUST", "SHOULD", "check"]

AREAS = {
    "AUTH": "auth",
    "CONN": "connect",
    "ROUTE": "routes",
    "BCAST": "broadcast",
    "HIST": "history",
    "LIFE": "lifecycle",
    "LIMIT": "limits",
    "SEC": "security",
}


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
    group.addoption("--profile", help="comma-separated profiles the stage implements (core)")
    group.addoption("--conformance-timeout", type=float, help="seconds per wait (default 5)")
    group.addoption("--results-json", help="write every check's verdict to this file")
    group.addoption(
        "--conformance-strict",
        action="store_true",
        help="a failed SHOULD check fails the run too (`chatstack conform --strict`)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "check(id, level, profile): a conformance check, its ID and level"
    )
    config.pluginmanager.register(Reporter(config), "chatstack-conformance-reporter")


def _profiles(config: pytest.Config) -> set[str]:
    raw = config.getoption("profile") or os.environ.get("CHATSTACK_CONFORMANCE_PROFILE") or "core"
    return {p.strip() for p in raw.split(",") if p.strip()}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    owners: dict[str, str] = {}
    declared = _profiles(config)
    for item in items:
        marker = item.get_closest_marker("check")
        if marker is None:
            raise pytest.UsageError(f"{item.nodeid} has no @check(ID)")
        check_id, level, profile = marker.args
        function = getattr(item, "originalname", item.name)
        owner = f"{item.module.__name__}.{function}"  # type: ignore[attr-defined]
        if owners.setdefault(check_id, owner) != owner:
            raise pytest.UsageError(
                f"check ID {check_id} is used by {owners[check_id]} and {owner}"
            )
        doc = (item.function.__doc__ or "").strip().splitlines()  # type: ignore[attr-defined]
        requirement = doc[0] if doc else ""
        item.extra_keyword_matches.update({check_id, AREAS[check_id.split("-")[0]]})
        item.user_properties += [
            ("check_id", check_id),
            ("area", AREAS[check_id.split("-")[0]]),
            ("level", level),
            ("profile", profile),
            ("requirement", requirement),
        ]
        if profile not in declared:
            item.add_marker(pytest.mark.skip(reason=f"profile {profile!r} not declared by stage"))


class Reporter:
    """Collects one verdict per check and prints the summary by area."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.items: dict[str, dict[str, Any]] = {}
        self.latencies: list[float] = []
        self.target: dict[str, str] | None = None
        self.exit_code: int | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        if "check_id" not in properties:
            return
        entry = self.items.setdefault(
            report.nodeid, {**properties, "outcome": "passed", "message": ""}
        )
        entry.pop("broadcast_latency_ms", None)
        if report.when == "call":
            entry["outcome"] = report.outcome
            entry["duration"] = round(report.duration, 3)
            if "broadcast_latency_ms" in properties:
                self.latencies.extend(json.loads(properties["broadcast_latency_ms"]))
        elif report.failed:
            entry["outcome"] = "error"
        elif report.skipped:
            entry["outcome"] = "skipped"
        if report.failed or report.skipped:
            entry["message"] = _message(report)

    def verdicts(self) -> dict[str, dict[str, Any]]:
        """One verdict per check ID, the worst of its cases (``verdicts.worst``)."""
        cases: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in self.items.values():
            cases[entry["check_id"]].append(entry)
        verdicts = {}
        for check_id, entries in cases.items():
            outcome = worst(e["outcome"] for e in entries)
            first = next(e for e in entries if e["outcome"] == outcome)
            verdicts[check_id] = {
                **first,
                "cases": len(entries),
                "duration": round(sum(e.get("duration", 0.0) for e in entries), 3),
            }
        return dict(sorted(verdicts.items()))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        verdicts = self.verdicts()
        if not verdicts or exitstatus not in (0, 1):
            return  # interrupted, a usage or internal error, nothing collected: pytest's code
        self.exit_code = exit_code(verdicts.values(), self.strict)
        session.exitstatus = self.exit_code
        path = self.config.getoption("results_json")
        if path:
            Path(path).write_text(
                json.dumps(
                    {
                        "target": self.target,
                        "profiles": sorted(_profiles(self.config)),
                        "strict": self.strict,
                        "exit_code": self.exit_code,
                        "checks": verdicts,
                        "broadcast_latency_ms": sorted(self.latencies),
                    },
                    indent=2,
                )
            )

    @property
    def strict(self) -> bool:
        return bool(self.config.getoption("conformance_strict"))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        verdicts = self.verdicts()
        if not verdicts:
            return
        write = terminalreporter.write_line
        terminalreporter.section("chatstack conformance")
        if self.target:
            write(
                f"target: {self.target['rest_url']} {self.target['ws_url']} "
                f"({self.target['source']})"
            )
        counts = counts_by_area_and_level(verdicts.values())
        write(f"{'area':<10} {'level':<6} " + " ".join(f"{o:>7}" for o in OUTCOMES))
        for area in AREAS.values():
            for level in LEVELS:
                c = counts.get((area, level))
                if c:
                    write(f"{area:<10} {level:<6} " + " ".join(f"{c[o]:>7}" for o in OUTCOMES))
        for outcome in ("failed", "error", "xpassed", "xfailed", "skipped"):
            for check_id, verdict in verdicts.items():
                if verdict["outcome"] == outcome:
                    label = outcome.upper()
                    if outcome == "failed" and verdict["level"] == SHOULD:
                        label = "FAILED (SHOULD)"
                    write(f"{label:<15} {check_id:<10} {verdict['requirement']}")
                    first = verdict["message"].strip().splitlines()
                    if first:
                        write(f"{'':<26} {first[0][:160]}")
        latencies = sorted(self.latencies)
        if latencies:
            p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
            write(
                f"broadcast latency, send to receive ({len(latencies)} deliveries): "
                f"p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, "
                f"max {latencies[-1]:.1f} ms"
            )
        code = exit_code(verdicts.values(), self.strict)
        should = sum(
            1 for v in verdicts.values() if v["outcome"] == "failed" and v["level"] == SHOULD
        )
        note = f"; {should} SHOULD check(s) failed" if should else ""
        note += " (--strict)" if should and self.strict else ""
        write(f"exit code {code}: {EXIT_CODES[code].split(':')[0]}{note}")


def _message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (file, line, reason)
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    return str(crash.message if crash is not None else longrepr)


def _reporter(config: pytest.Config) -> Reporter:
    return config.pluginmanager.get_plugin("chatstack-conformance-reporter")  # type: ignore[return-value]


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def conformance_timeout(pytestconfig: pytest.Config) -> float:
    value = pytestconfig.getoption("conformance_timeout")
    return float(value or os.environ.get("CHATSTACK_CONFORMANCE_TIMEOUT") or 5.0)


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Iterator[Target]:
    """The stage under test; a local stage is started when none is given."""
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
            given = Target(
                local.rest_url, local.ws_url, "a local stage started for this run", local.jwt_secret
            )
    except TargetError as exc:
        pytest.fail(f"harness: {exc}", pytrace=False)
    _reporter(pytestconfig).target = {
        "rest_url": given.rest_url,
        "ws_url": given.ws_url,
        "source": given.source,
    }
    yield given
    if local is not None:
        local.stop()


@pytest.fixture(scope="session")
def signing_key(target: Target) -> str:
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
        return read_signing_key(target.jwt_secret_param, target.rest_url)
    except TargetError as exc:
        pytest.fail(f"harness: {exc}", pytrace=False)


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
        peer = await Peer.connect(target.ws_url, who.token, conformance_timeout)
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
