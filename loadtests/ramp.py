"""Ramp: step the users up and find the knee — the first step whose p95 (or delivery, or error
rate) crosses its threshold.

    locust -f loadtests/ramp.py --headless --ramp-steps 50,100,200,400 --ramp-step-seconds 30
    locust -f loadtests/ramp.py --headless --tags rooms --ramp-max-users 2000 --stage-file s.json

Each step runs in three phases: *ramping* (sending paused until every user of the step is
connected and in its rooms, at most ``--ramp-setup-timeout`` s), *measuring*
(``--ramp-step-seconds`` of steady load) and *draining* (sending paused ``--drain`` s, so the
step's deliveries land in its own window). ``--ramp-warmup-seconds`` first runs an unjudged step
at the first step's users (cold paths of a fresh stage: clients, connection pools). Only the
measuring window is judged: a step's figures never include the set-up of its connections.
The ramp stops after the knee's step (``--ramp-past-knee`` runs every step); the run passes
when no step up to ``--ramp-required-users`` (default: the last step) crossed a threshold.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from locust import LoadTestShape
from locust.stats import calculate_response_time_percentile, diff_response_time_dicts

if __package__ in (None, ""):  # Locust imports this file by path, as a top-level module
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.harness import Harness, current
from loadtests.locustfile import ChurnUser, FanoutListener, FanoutSender, RoomsUser
from loadtests.metrics import Delivery
from loadtests.thresholds import FAIL, Check, Measured, Thresholds, judge, passed

__all__ = ["ChurnUser", "FanoutListener", "FanoutSender", "RoomsUser", "Step", "StepRamp"]

Snapshot = dict[str, tuple[dict[int, int], int, int]]


def _snapshot(harness: Harness) -> Snapshot:
    shot: Snapshot = {
        kind: (dict(entry.response_times), entry.num_requests, entry.num_failures)
        for kind, entry in harness.merged_stats().items()
    }
    total = harness.environment.stats.total
    shot["(total)"] = ({}, total.num_requests, total.num_failures)
    return shot


def _window(before: Snapshot, after: Snapshot, kind: str) -> dict[str, Any]:
    times, count, failures = after.get(kind, ({}, 0, 0))
    old_times, old_count, old_failures = before.get(kind, ({}, 0, 0))
    diff = diff_response_time_dicts(times, old_times)
    count -= old_count

    def pct(p: float) -> float | None:
        return float(calculate_response_time_percentile(diff, count, p)) if count else None

    return {
        "count": count,
        "failures": failures - old_failures,
        "p50": pct(0.5),
        "p95": pct(0.95),
        "p99": pct(0.99),
    }


@dataclass
class Step:
    """One step of the ramp, measured over its steady window."""

    users: int
    connected: int
    start: float
    end: float
    broadcast: dict[str, Any]
    send: dict[str, Any]
    operations: int
    failures: int
    delivery: Delivery = field(default_factory=Delivery)
    checks: list[Check] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return max(1e-9, self.end - self.start)

    @property
    def passed(self) -> bool:
        return passed(self.checks)

    def judge(self, limits: Thresholds) -> None:
        measured = Measured(
            send_p95_ms=self.send["p95"],
            sends=self.send["count"],
            broadcast_p95_ms=self.broadcast["p95"],
            broadcasts=self.broadcast["count"],
            operations=self.operations,
            failures=self.failures,
            delivery=self.delivery,
        )
        self.checks = judge(limits, measured)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["delivery"] = self.delivery.as_dict()
        data["checks"] = [c.as_dict() for c in self.checks]
        data["passed"] = self.passed
        data["messages_per_s"] = self.delivery.messages / self.seconds
        data["deliveries_per_s"] = self.broadcast["count"] / self.seconds
        return data


def _plan(options: Any) -> list[int]:
    if options.ramp_steps:
        return [int(n) for n in str(options.ramp_steps).replace(" ", "").split(",") if n]
    start, step = options.ramp_start_users, max(1, options.ramp_step_users)
    return list(range(start, options.ramp_max_users + 1, step)) or [options.ramp_max_users]


class StepRamp(LoadTestShape):
    """Steps users up (``--ramp-*``), measures each step's steady state, reports the knee."""

    use_common_options = True

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[Step] = []
        self.knee: Step | None = None
        self._index = 0
        self._phase = "ramping"
        self._since = 0.0
        self._before: Snapshot = {}
        self._measured = (0.0, 0.0)

    @staticmethod
    def planned_users(options: Any) -> int:
        """The largest step: the most users the ramp holds at once."""
        return max(_plan(options), default=0)

    def reset_time(self) -> None:
        super().reset_time()
        self.steps, self.knee, self._index, self._phase, self._since = [], None, 0, "ramping", 0.0

    def _schedule(self, opts: Any) -> list[tuple[int, float, bool]]:
        """(users, measured seconds, warm-up?) of every step, the warm-up first if any."""
        plan = [(users, opts.ramp_step_seconds, False) for users in _plan(opts)]
        if opts.ramp_warmup_seconds > 0 and plan:
            plan.insert(0, (plan[0][0], opts.ramp_warmup_seconds, True))
        return plan

    def tick(self) -> tuple[int, float] | None:
        harness = current()
        opts = harness.options
        plan = self._schedule(opts)
        if self._index >= len(plan):
            return None
        (users, seconds, warmup), now = plan[self._index], time.time()
        if self._phase == "ramping":
            if not self._since:
                self._since = now
                harness.pause(True)
            runner = harness.environment.runner
            ready = runner.target_user_count == users and harness.all_ready
            if ready or now - self._since > opts.ramp_setup_timeout:
                self._phase, self._since, self._before = "measuring", now, _snapshot(harness)
                harness.pause(False)
        elif self._phase == "measuring" and now - self._since >= seconds:
            harness.pause(True)
            self._phase, self._measured = "draining", (self._since, now)
            self._since = now
        elif self._phase == "draining" and now - self._since >= opts.drain:
            self._index += 1
            self._phase, self._since = "ramping", 0.0
            if warmup:
                print(f"warm-up of {seconds:g} s with {users} users done", flush=True)
                return plan[self._index][0], opts.ramp_spawn_rate
            step = self._record(harness, users)
            if not step.passed and self.knee is None:
                self.knee = step
                if not opts.ramp_past_knee:
                    return None
            if self._index >= len(plan):
                return None
            users = plan[self._index][0]
        return users, opts.ramp_spawn_rate

    def _record(self, harness: Harness, users: int) -> Step:
        start, end = self._measured
        after = _snapshot(harness)
        total = _window(self._before, after, "(total)")
        step = Step(
            users=users,
            connected=harness.ready_total,
            start=start,
            end=end,
            broadcast=_window(self._before, after, "broadcast"),
            send=_window(self._before, after, "sendMessage"),
            operations=total["count"],
            failures=total["failures"],
            delivery=harness.ledger.tally(cutoff=time.time() - 1.0, since=start, until=end),
        )
        step.judge(Thresholds.from_options(harness.options))
        if not self.steps:
            print(_header(), flush=True)
        self.steps.append(step)
        print(_row(step), flush=True)
        return step

    def judge(
        self, harness: Harness, limits: Thresholds
    ) -> tuple[list[Check], list[str], dict[str, Any]]:
        """The ramp's verdict: one check per step up to the required users, and the step table."""
        required = harness.options.ramp_required_users or max(_plan(harness.options))
        checks: list[Check] = []
        for step in self.steps:
            step.delivery = harness.ledger.tally(since=step.start, until=step.end)
            step.judge(limits)
            if step.users <= required:
                failing = [c.name for c in step.checks if c.verdict == FAIL]
                shown = "all within" if not failing else "over: " + ", ".join(failing)
                verdict = "PASS" if step.passed else FAIL
                checks.append(Check(f"{step.users} users", "every threshold", shown, verdict, None))
        knee = next((s for s in self.steps if not s.passed), None)
        reached = max((s.users for s in self.steps), default=0)
        if knee is None and reached < required:
            shown = f"stopped after {reached} users"
            checks.append(Check("ramp", f"steps up to {required} users", shown, FAIL, None))
        notes = ["", _header(), *(_row(s) for s in self.steps), ""]
        notes.append(
            f"knee: {knee.users} users (the first step over a threshold)"
            if knee
            else f"knee: none up to {self.steps[-1].users if self.steps else 0} users"
        )
        extra = {
            "steps": [s.as_dict() for s in self.steps],
            "knee_users": knee.users if knee else None,
            "required_users": required,
        }
        return checks, notes, extra


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _header() -> str:
    return (
        f"{'users':>6} {'msgs/s':>7} {'deliv/s':>8} {'bcast p50':>9} {'p95':>6} {'p99':>6} "
        f"{'ack p95':>7} {'delivery':>9} {'errors':>7}  verdict"
    )


def _row(step: Step) -> str:
    ratio = step.delivery.ratio
    return (
        f"{step.users:>6} {step.delivery.messages / step.seconds:>7.1f} "
        f"{step.broadcast['count'] / step.seconds:>8.0f} {_fmt(step.broadcast['p50']):>9} "
        f"{_fmt(step.broadcast['p95']):>6} {_fmt(step.broadcast['p99']):>6} "
        f"{_fmt(step.send['p95']):>7} "
        f"{'-' if ratio is None else f'{100 * ratio:.2f}%':>9} {step.failures:>7}  "
        f"{'PASS' if step.passed else 'FAIL'}"
    )
