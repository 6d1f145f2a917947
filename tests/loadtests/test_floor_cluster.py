"""The floor server in several processes: a room's members on different processes all get its
broadcasts (the processes relay them to one another), and load tests spread over their URLs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from benchmarks.floor_server import running_floor
from tests.loadtests.test_smoke import REPO_ROOT, locust


@pytest.fixture(scope="module")
def floors() -> Iterator[dict[str, Any]]:
    with running_floor(processes=3) as floor:
        yield floor


async def frame_of_type(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if frame.get("type") == kind:
            return frame


async def test_a_broadcast_reaches_members_connected_to_every_floor_process(
    floors: dict[str, Any],
) -> None:
    """One member per process joins the room; one message reaches all three, once each."""
    urls = floors["ws_urls"]
    assert len(set(urls)) == 3 and len(floors["pids"]) == 3
    members = [await connect(f"{url}?token=x", compression=None) for url in urls]
    try:
        for ws in members:
            await ws.send(json.dumps({"action": "joinRoom", "roomId": "relay"}))
            assert (await frame_of_type(ws, "ack"))["action"] == "joinRoom"
        send = {
            "action": "sendMessage",
            "roomId": "relay",
            "message": "hi",
            "clientMessageId": "c1",
        }
        await members[1].send(json.dumps(send))
        for ws in members:
            message = await frame_of_type(ws, "message")
            assert (message["roomId"], message["message"]) == ("relay", "hi")
    finally:
        for ws in members:
            await ws.close()


def test_a_distributed_run_over_floor_processes_merges_every_workers_books(
    tmp_path: Path, floors: dict[str, Any]
) -> None:
    """``--processes 2`` against 3 floor processes: users spread over the URLs, the master's
    merged books expect and count every member of the one room."""
    code, summary, output = locust(
        tmp_path,
        *("--processes", "2", "-u", "30", "-r", "30", "-t", "10s", "--no-auth"),
        *("--stage-file", floors["stage_file"], "--hold-until-connected"),
        *("--send-p95-ms", "600000", "--broadcast-p95-ms", "600000"),  # machinery, not speed
    )
    assert code == 0, output[-3000:]
    delivery = summary["delivery"]
    assert delivery["messages"] > 0 and delivery["missing"] == 0 and delivery["duplicates"] == 0
    assert delivery["expected"] >= 29 * delivery["messages"]  # every member, on every process
    assert summary["target"]["ws_url"] == ",".join(floors["ws_urls"])


def test_a_run_past_the_open_file_limit_is_refused_before_any_user_starts(
    tmp_path: Path, floors: dict[str, Any]
) -> None:
    """A million users in one process: exit code 2 at once, the limit and the remedy said."""
    summary = tmp_path / "summary.json"
    command = [sys.executable, "-m", "locust", "-f", "loadtests/locustfile.py", "--headless"]
    command += ["-u", "1000000", "-r", "10", "-t", "5s", "--no-auth"]
    command += ["--stage-file", floors["stage_file"], "--summary-json", str(summary)]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "ulimit -n" in done.stderr and "--processes" in done.stderr
    assert "connect" not in done.stdout and not summary.exists()
