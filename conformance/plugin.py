"""The pytest plugin of the conformance suite: target options, check IDs, fixtures, summary.

Options (each also from the environment):

- ``--rest-url`` / ``--ws-url`` (``CHATSTACK_REST_URL`` / ``CHATSTACK_WS_URL``): the stage.
- ``--stage FILE`` (``CHATSTACK_STAGE_FILE``): a stage file, the local stage's or
  ``terraform output -json``.
- ``--jwt-secret`` (``CHATSTACK_CONFORMANCE_JWT_SECRET``): lets SEC-006 forge an expired token.
- ``--profile`` (``CHATSTACK_CONFORMANCE_PROFILE``): profiles the stage implements (``core``).
- ``--conformance-timeout`` (``CHATSTACK_CONFORMANCE_TIMEOUT``): seconds per wait (default 5).
- ``--results-json FILE``: every check's verdict, the target and the latencies, as JSON.

With no target, a local stage is started for the run (``chatstack up``) and stopped after.
Verdicts are kept apart: *failed* (the stage is broken), *skipped* (a profile or capability the
stage or run does not offer — never a pass), *error* (the harness could not run the check).
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
from conformance.target import LocalStage, Target, TargetError, resolve

__all__ = ["AREAS", "check"]

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


def check(check_id: str, profile: str = "core") -> pytest.MarkDecorator:
    """Mark a check with its stable ID (``AREA-NNN``) and profile."""
    prefix = check_id.split("-")[0]
    if prefix not in AREAS:
        raise ValueError(f"unknown check area in {check_id!r}")
    return pytest.mark.check(check_id, profile)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chatstack conformance")
    group.addoption("--rest-url", help="the stage's REST API URL")
    group.addoption("--ws-url", help="the stage's WebSocket API URL")
    group.addoption("--stage", dest="stage_file", help="a stage file (either shape)")
    group.addoption("--jwt-secret", help="the stage's signing key (enables SEC-006)")
    group.addoption("--profile", help="comma-separated profiles the stage implements (core)")
    group.addoption("--conformance-timeout", type=float, help="seconds per wait (default 5)")
    group.addoption("--results-json", help="write every check's verdict to this file")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "check(id, profile): a conformance check and its ID")
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
        check_id, profile = marker.args
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
        """One verdict per check ID: error > failed > passed > skipped over its cases."""
        rank = {"error": 3, "failed": 2, "passed": 1, "skipped": 0}
        verdicts: dict[str, dict[str, Any]] = {}
        for entry in self.items.values():
            current = verdicts.get(entry["check_id"])
            if current is None or rank[entry["outcome"]] > rank[current["outcome"]]:
                verdicts[entry["check_id"]] = entry
        return dict(sorted(verdicts.items()))

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
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for verdict in verdicts.values():
            counts[verdict["area"]][verdict["outcome"]] += 1
        write(f"{'area':<10} {'passed':>6} {'failed':>6} {'skipped':>7} {'error':>5}")
        for area in AREAS.values():
            c = counts.get(area)
            if c:
                write(
                    f"{area:<10} {c['passed']:>6} {c['failed']:>6} {c['skipped']:>7} "
                    f"{c['error']:>5}"
                )
        for outcome in ("failed", "error", "skipped"):
            for check_id, verdict in verdicts.items():
                if verdict["outcome"] == outcome:
                    write(f"{outcome.upper():<8} {check_id:<10} {verdict['requirement']}")
                    first = verdict["message"].strip().splitlines()
                    if first:
                        write(f"{'':<19} {first[0][:160]}")
        latencies = sorted(self.latencies)
        if latencies:
            p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
            write(
                f"broadcast latency, send to receive ({len(latencies)} deliveries): "
                f"p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, "
                f"max {latencies[-1]:.1f} ms"
            )
        path = self.config.getoption("results_json")
        if path:
            Path(path).write_text(
                json.dumps(
                    {
                        "target": self.target,
                        "profiles": sorted(_profiles(self.config)),
                        "checks": verdicts,
                        "broadcast_latency_ms": latencies,
                    },
                    indent=2,
                )
            )


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
            option("rest_url"), option("ws_url"), option("stage_file"), option("jwt_secret")
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
