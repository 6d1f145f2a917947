"""The receipts load test (benchmarks/receipts_load.py) works: on the session's stage, at small
sizes, each scenario gives its figures and a verdict within the bound."""

from __future__ import annotations

from benchmarks.receipts_load import Aws, parse_args, run
from tests.support.stage_process import RunningStage


async def test_the_receipts_load_test_measures_writes_and_frames_within_the_bound(
    stage: RunningStage,
):
    """A group above the bound gets no receipt frame and at most 2(n-1)+1 marker writes per
    message; a small group's frames stay within 2(n-1)² per message; a room gets no receipt
    frame and at most 2(n-1) marker writes per message; typing is rate-limited and each
    admitted signal reaches the peer once."""
    sizes = ["--group-size", "22", "--small-size", "3", "--room-size", "4", "--messages", "3"]
    args = parse_args([*sizes, "--pairs", "2", "--typing-seconds", "2.5", "--typing-every", "0.4"])
    aws = Aws(stage.client("dynamodb"), stage.client("dynamodbstreams"), stage.table("chats"))
    urls = {"rest_url": stage.rest_url, "ws_url": stage.ws_url}
    group, small, room, typing = await run(args, urls, aws)
    verdicts = [r["verdict"] for r in (group, small, room, typing)]
    assert verdicts == ["PASS"] * 4, (group, small, room, typing)
    assert group["live"] is False and group["receipt_frames_per_message"] == 0
    assert 0 < group["marker_writes_per_message"] <= 2 * 21 + 1
    assert group["message_frames_per_message"] == 22 and group["errors"] == 0
    assert small["live"] is True and 0 < small["receipt_frames_per_message"] <= 2 * 2 * 2
    assert room["receipt_frames_per_message"] == 0 and room["message_frames_per_message"] == 4
    assert 0 < room["marker_writes_per_message"] <= 2 * 3 and room["receipts_acked"]
    assert typing["rate_limited"] > 0 and typing["frames_per_admitted_signal"] == 1.0
