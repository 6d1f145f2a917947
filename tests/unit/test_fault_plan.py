"""The fault plan (reference_stack/local/faults.py): checked when read, decided by seed."""

from __future__ import annotations

import json

import pytest

from reference_stack.local.faults import FaultPlan, FaultPlanError


def _decisions(plan: FaultPlan, operations: list[str]) -> list[str | None]:
    decided = []
    for n, operation in enumerate(operations):
        fault = plan.dynamodb(operation, elapsed=n * 0.01)
        decided.append(None if fault is None else fault.spec["error"])
    return decided


PLAN = {
    "seed": 42,
    "faults": [
        {"kind": "dynamodb", "error": "throttling", "rate": 0.3, "operations": ["Query"]},
        {"kind": "dynamodb", "error": "internal", "rate": 0.2},
    ],
}


def test_the_same_seed_makes_the_same_decisions():
    """Two plans with one seed decide the same calls the same way: a run repeats."""
    calls = ["Query", "PutItem", "GetItem"] * 50
    first = _decisions(FaultPlan.from_dict(PLAN), calls)
    assert first == _decisions(FaultPlan.from_dict(PLAN), calls)
    assert first != _decisions(FaultPlan.from_dict({**PLAN, "seed": 43}), calls)
    assert {"throttling", "internal", None} == set(first)


def test_a_fault_limited_to_operations_leaves_the_others_alone():
    """``operations`` names the calls a fault may hit."""
    decided = _decisions(FaultPlan.from_dict(PLAN), ["PutItem"] * 200)
    assert "throttling" not in decided


def test_times_start_and_duration_bound_a_fault():
    """A fault fires only inside its window, and at most ``times`` times."""
    plan = FaultPlan.from_dict(
        {
            "seed": 1,
            "faults": [
                {"kind": "connections", "answer": 500, "start": 1, "duration": 1, "times": 2}
            ],
        }
    )
    assert plan.connections(0.5) is None
    assert plan.connections(1.1) is not None
    assert plan.connections(1.2) is not None
    assert plan.connections(1.3) is None  # times exhausted
    assert plan.summary()[0]["injected"] == 2


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ({"kind": "meteor"}, "kind must be one of"),
        ({"kind": "dynamodb", "error": "gremlins"}, "error must be one of"),
        ({"kind": "dynamodb", "error": "internal", "rate": 2}, "rate must be at most 1"),
        ({"kind": "connections"}, "give an answer, a delay, or both"),
        ({"kind": "connections", "answer": 418}, "answer must be one of"),
        ({"kind": "crash", "function": "broadcaster"}, "after_posts"),
        ({"kind": "kill", "function": "broadcaster"}, "needs at"),
        ({"kind": "restart", "part": "kernel", "at": 1}, "part must be one of"),
        ({"kind": "restart", "part": "poller", "at": -1}, "at must be a number >= 0"),
    ],
)
def test_a_plan_the_stage_cannot_carry_out_is_refused_with_the_reason(fault, says):
    """Every mistake in a plan is named before the stage starts."""
    with pytest.raises(FaultPlanError, match=says):
        FaultPlan.from_dict({"seed": 1, "faults": [fault]})


def test_a_plan_file_that_is_not_json_is_refused(tmp_path):
    """An unreadable file is a FaultPlanError naming the file."""
    path = tmp_path / "plan.json"
    path.write_text("{not json")
    with pytest.raises(FaultPlanError, match="cannot read the fault plan"):
        FaultPlan.load(path)
    path.write_text(json.dumps(PLAN))
    assert len(FaultPlan.load(path).faults) == 2
