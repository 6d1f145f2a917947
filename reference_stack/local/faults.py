"""A fault plan for the local stage (``chatstack up --faults FILE``): what goes wrong, when, how
often — seeded, so a run can be repeated. Parsing and decisions are pure code; the stage's parts
ask it (``fault_proxy.py`` for DynamoDB, ``management_api.py`` for ``@connections``,
``fault_runner.py`` for processes).

A plan is JSON::

    {"seed": 7, "faults": [
      {"kind": "dynamodb", "error": "throttling", "rate": 0.2, "operations": ["Query"]},
      {"kind": "connections", "answer": 500, "rate": 0.1, "start": 5, "duration": 10},
      {"kind": "crash", "function": "broadcaster", "after_posts": 3, "times": 1},
      {"kind": "kill", "function": "fanout_shard", "at": 5, "every": 20},
      {"kind": "restart", "part": "poller", "at": 5},
      {"kind": "restart", "part": "dynamodb", "at": 8}
    ]}

Every fault may have ``start`` and ``duration`` (seconds after the stage started; default: from
the start, for ever) and ``times`` (at most so many injections). The kinds:

- ``dynamodb``: a DynamoDB or DynamoDB Streams call (``operations``, default all: ``PutItem``,
  ``Query``, ``GetRecords``…) answers ``error`` at ``rate`` (0–1): ``throttling``
  (400 ThrottlingException), ``throughput`` (400 ProvisionedThroughputExceededException),
  ``internal`` (500 InternalServerError), ``unavailable`` (503 ServiceUnavailable), or
  ``timeout`` — the call is carried out but its answer held ``delay`` seconds (default 6, past
  the functions' 5 s read timeout), so the client gives up on a call that did happen.
- ``connections``: a ``@connections`` POST from a function answers ``answer`` at ``rate``:
  ``500``/``502``/``503``/``429`` (frame not sent), ``410`` (the stage loses the connection:
  it is closed with 1011 and the POST answers Gone), ``malformed`` (a status line that is not
  HTTP), or, with ``delay`` seconds, answers late. ``deliver`` (default: true for a delay,
  false otherwise) sends the frame before the faulty answer — the caller cannot tell.
- ``crash``: the worker process running ``function`` is killed once its invocation has made
  ``after_posts`` ``@connections`` POSTs (mid-batch); ``times`` defaults to 1.
- ``kill``: the worker processes of ``function`` are killed ``at`` seconds (and ``every``).
- ``restart``: ``part`` — ``poller`` (the stream poller, from its checkpoint), ``dynamodb``
  (DynamoDB Local, killed: the stage restarts it; its data then lives on disk) or ``moto`` —
  ``at`` seconds (and ``every``).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reference_stack.local.errors import StageError

__all__ = [
    "CONNECTION_ANSWERS",
    "DYNAMODB_ERRORS",
    "Fault",
    "FaultPlan",
    "FaultPlanError",
]

DYNAMODB_ERRORS: dict[str, tuple[int, str, str]] = {
    "throttling": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "throughput": (
        400,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    ),
    "internal": (500, "InternalServerError", "Internal server error"),
    "unavailable": (503, "ServiceUnavailable", "Service unavailable"),
    "timeout": (0, "", ""),
}
CONNECTION_ANSWERS = (500, 502, 503, 429, 410, "malformed")
KINDS = ("dynamodb", "connections", "crash", "kill", "restart")
PARTS = ("poller", "dynamodb", "moto")


class FaultPlanError(StageError):
    """The fault plan cannot be read or says something the stage cannot do."""


@dataclass
class Fault:
    """One line of the plan, with its own seeded random stream and count of injections."""

    index: int
    kind: str
    spec: dict[str, Any]
    rng: random.Random
    start: float = 0.0
    duration: float | None = None
    times: int | None = None
    rate: float = 1.0
    injected: int = 0

    def active(self, elapsed: float) -> bool:
        """Whether the fault may fire ``elapsed`` seconds after the stage started."""
        if self.times is not None and self.injected >= self.times:
            return False
        if elapsed < self.start:
            return False
        return self.duration is None or elapsed < self.start + self.duration

    def draw(self, elapsed: float) -> bool:
        """Decide one event: fires with ``rate``; the random stream advances only while active,
        so the same events get the same decisions run after run."""
        if not self.active(elapsed):
            return False
        if self.rng.random() >= self.rate:
            return False
        self.injected += 1
        return True

    def describe(self) -> dict[str, Any]:
        return {"fault": self.index, "kind": self.kind, **self.spec}


def _number(spec: dict[str, Any], name: str, where: str, default: Any = None) -> Any:
    value = spec.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultPlanError(f"{where}: {name} must be a number >= 0, got {value!r}")
    return value


@dataclass
class FaultPlan:
    """The faults of one run, in plan order."""

    seed: int
    faults: list[Fault] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> FaultPlan:
        """Read and check a plan file.

        Raises:
            FaultPlanError: unreadable, not JSON, or a fault the stage does not know.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FaultPlanError(f"cannot read the fault plan {path}: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> FaultPlan:
        if not isinstance(data, dict) or not isinstance(data.get("faults"), list):
            raise FaultPlanError('a fault plan is {"seed": N, "faults": [...]}')
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise FaultPlanError(f"seed must be an integer, got {seed!r}")
        plan = cls(seed)
        for index, spec in enumerate(data["faults"]):
            plan.faults.append(_fault(seed, index, spec))
        return plan

    def of_kind(self, kind: str) -> list[Fault]:
        return [fault for fault in self.faults if fault.kind == kind]

    def restarts(self, part: str) -> bool:
        return any(f.spec.get("part") == part for f in self.of_kind("restart"))

    # -- decisions -------------------------------------------------------------------------------

    def dynamodb(self, operation: str, elapsed: float) -> Fault | None:
        """The fault a DynamoDB call of ``operation`` meets, if any (the first that fires)."""
        for fault in self.of_kind("dynamodb"):
            operations = fault.spec.get("operations")
            if operations and operation not in operations:
                continue
            if fault.draw(elapsed):
                return fault
        return None

    def connections(self, elapsed: float) -> Fault | None:
        """The fault a ``@connections`` POST meets, if any."""
        for fault in self.of_kind("connections"):
            if fault.draw(elapsed):
                return fault
        return None

    def summary(self) -> list[dict[str, Any]]:
        """Every fault and how often it was injected."""
        return [{**fault.describe(), "injected": fault.injected} for fault in self.faults]


def _fault(seed: int, index: int, spec: Any) -> Fault:
    where = f"fault {index}"
    if not isinstance(spec, dict):
        raise FaultPlanError(f"{where}: must be an object")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise FaultPlanError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    rate = _number(spec, "rate", where, 1.0)
    if rate > 1:
        raise FaultPlanError(f"{where}: rate must be at most 1, got {rate!r}")
    times = _number(spec, "times", where, 1 if kind == "crash" else None)
    fault = Fault(
        index=index,
        kind=kind,
        spec={k: v for k, v in spec.items() if k != "kind"},
        rng=random.Random(f"{seed}:{index}"),
        start=float(_number(spec, "start", where, 0.0)),
        duration=_number(spec, "duration", where),
        times=None if times is None else int(times),
        rate=float(rate),
    )
    _number(spec, "delay", where)
    _number(spec, "at", where)
    _number(spec, "every", where)
    if kind == "dynamodb":
        error = spec.get("error")
        if error not in DYNAMODB_ERRORS:
            choices = ", ".join(DYNAMODB_ERRORS)
            raise FaultPlanError(f"{where}: error must be one of {choices}, got {error!r}")
        operations = spec.get("operations")
        if operations is not None and (
            not isinstance(operations, list) or not all(isinstance(o, str) for o in operations)
        ):
            raise FaultPlanError(f"{where}: operations must be a list of names like 'Query'")
    elif kind == "connections":
        answer = spec.get("answer")
        if answer is None and spec.get("delay") is None:
            raise FaultPlanError(f"{where}: give an answer, a delay, or both")
        if answer is not None and answer not in CONNECTION_ANSWERS:
            choices = ", ".join(map(str, CONNECTION_ANSWERS))
            raise FaultPlanError(f"{where}: answer must be one of {choices}, got {answer!r}")
    elif kind in ("crash", "kill"):
        if not isinstance(spec.get("function"), str):
            raise FaultPlanError(f"{where}: name the function whose worker process dies")
        if kind == "crash" and _number(spec, "after_posts", where) is None:
            raise FaultPlanError(f"{where}: a crash needs after_posts (POSTs before it)")
        if kind == "kill" and spec.get("at") is None:
            raise FaultPlanError(f"{where}: a kill needs at (seconds after the start)")
    elif kind == "restart":
        if spec.get("part") not in PARTS:
            raise FaultPlanError(f"{where}: part must be one of {', '.join(PARTS)}")
        if spec.get("at") is None:
            raise FaultPlanError(f"{where}: a restart needs at (seconds after the start)")
    return fault
