"""The broadcaster's lanes (its stream mapping's ``parallelization_factor``) for benchmarks: a
copy of stack.json with another factor, and the lane a room's messages fall in."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from reference_stack.definition import STACK_FILE, load
from reference_stack.local.stream_poller import lane_of

__all__ = ["broadcaster_lanes", "room_lane", "stack_args"]


def broadcaster_lanes() -> int:
    """The factor stack.json gives the broadcaster's mapping."""
    (mapping,) = [s for s in load().streams if s.function == "broadcaster"]
    return mapping.parallelization_factor


def room_lane(room_id: str, lanes: int) -> int:
    """The lane of ``room_id``'s messages (their partition key is ``room#{id}``)."""
    return lane_of({"dynamodb": {"Keys": {"pk": {"S": f"room#{room_id}"}}}}, "pk", lanes)


def stack_args(lanes: int | None) -> list[str]:
    """``chatstack up`` arguments running the broadcaster with ``lanes`` lanes (none: as
    stack.json says)."""
    if lanes is None:
        return []
    stack = json.loads(STACK_FILE.read_text(encoding="utf-8"))
    for stream in stack["streams"]:
        if stream["function"] == "broadcaster":
            stream["parallelization_factor"] = lanes
    path = Path(tempfile.mkdtemp(prefix="chatstack-lanes-")) / "stack.json"
    path.write_text(json.dumps(stack), encoding="utf-8")
    return ["--stack", str(path)]
