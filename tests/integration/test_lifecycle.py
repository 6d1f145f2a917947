"""Lifecycle: disconnect cleanup, reconnect, and API Gateway's size and time limits."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from conformance.client import Peer, Rest, unique_room
from reference_stack.definition import STACK_FILE
from tests.integration.conftest import TIMEOUT
from tests.support.stage_process import RunningStage, start_stage

REPO = Path(__file__).resolve().parents[2]
PYTHONPATH = os.environ.get("PYTHONPATH")


def _connection_items(dynamodb, table: str, user_id: str) -> list[dict]:
    items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return [i for i in items if i.get("userId", {}).get("S") == user_id]


async def _eventually_no_items(dynamodb, table: str, user_id: str) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while _connection_items(dynamodb, table, user_id):
        assert asyncio.get_running_loop().time() < deadline, "connection rows remain"
        await asyncio.sleep(0.05)


async def test_disconnect_removes_connection_and_memberships(
    connect, user, dynamodb, connections_table
):
    """Closing the socket deletes the connection and every room membership it had."""
    peer = await connect(user)
    await peer.join(unique_room())
    await peer.join(unique_room())
    assert (
        len(_connection_items(dynamodb, connections_table, user.user_id)) == 4
    )  # meta + general + 2 rooms
    await peer.close()
    await _eventually_no_items(dynamodb, connections_table, user.user_id)


def _in_frames(text: str, size: int) -> list[str]:
    """``text`` cut into pieces of at most ``size`` bytes (ASCII): one frame each."""
    return [text[start : start + size] for start in range(0, len(text), size)]


async def test_frame_over_32_kb_closes_and_disconnects(connect, user, dynamodb, connections_table):
    """One frame over 32 KB closes the connection with 1009, as API Gateway does, unrouted."""
    peer = await connect(user)
    frame = '{"action":"sendMessage","roomId":"general","message":"' + "x" * 32_768 + '"}'
    await peer.send(frame)
    code = await peer.closed()
    assert code == 1009
    assert peer.replies.empty(), "the frame over the limit was routed"
    await _eventually_no_items(dynamodb, connections_table, user.user_id)


async def test_message_over_32_kb_in_smaller_frames_is_routed(connect, user):
    """A 100 KB message in frames of at most 32 KB is reassembled and answered."""
    peer = await connect(user)
    frame = '{"action":"sendMessage","roomId":"general","message":"' + "x" * 100_000 + '"}'
    await peer.socket.send(_in_frames(frame, 32_768))
    answer = await peer.reply()
    assert (answer.get("code"), answer.get("field")) == ("VALIDATION_ERROR", "message"), answer
    assert (await peer.request({"action": "getMessages", "roomId": "general"}))["type"] == (
        "messages"
    )


async def test_message_over_128_kb_closes_and_disconnects(
    connect, user, dynamodb, connections_table
):
    """A message over 128 KB, in frames under 32 KB, closes with 1009; $disconnect still runs."""
    peer = await connect(user)
    frame = '{"action":"sendMessage","roomId":"general","message":"' + "x" * 131_100 + '"}'
    await peer.socket.send(_in_frames(frame, 32_000))
    code = await peer.closed()
    assert code == 1009
    await _eventually_no_items(dynamodb, connections_table, user.user_id)


@pytest.fixture(scope="module")
def short_stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStage]:
    """A stage with API Gateway's time limits shortened to seconds."""
    running = start_stage(
        tmp_path_factory.mktemp("short"), "--idle-timeout", "1", "--max-connection-duration", "3"
    )
    yield running
    running.stop()


async def test_idle_connection_is_closed_with_1001(short_stage, http, connect):
    """A connection that sends nothing for the idle timeout is closed with 1001."""
    user = await Rest(http, short_stage.rest_url, TIMEOUT).new_user("idle")
    peer = await connect(user, short_stage)
    code = await peer.closed()
    assert code == 1001


async def test_busy_connection_is_closed_at_maximum_duration(short_stage, http, connect):
    """A connection that stays active is still closed with 1001 at the maximum duration."""
    user = await Rest(http, short_stage.rest_url, TIMEOUT).new_user("busy")
    peer = await connect(user, short_stage)
    started = asyncio.get_running_loop().time()
    room = unique_room()
    with pytest.raises(websockets.ConnectionClosed):
        while asyncio.get_running_loop().time() - started < 3 + TIMEOUT:
            await peer.socket.send(f'{{"action":"joinRoom","roomId":"{room}"}}')
            await asyncio.sleep(0.2)  # keep the connection active, under the idle timeout
    elapsed = asyncio.get_running_loop().time() - started
    code = await peer.closed()
    assert code == 1001
    assert elapsed >= 2.5, f"closed after {elapsed:.1f} s, before the maximum duration"


async def test_a_reply_to_a_dropped_connection_ends_quietly(
    stage, rest, connect, dynamodb, connections_table
):
    """A browser that drops right after sending gets no reply, and the stage logs no traceback."""
    logged_before = len(stage.logs())
    watcher = await connect(await rest.new_user("watcher"))
    room = unique_room()
    await watcher.join(room)
    leaver_user = await rest.new_user("leaver")
    leaver = await connect(leaver_user)
    await leaver.join(room)

    # Drop the TCP connection right after the frame, before the stage can send its ack.
    await leaver.send({"action": "sendMessage", "roomId": room, "message": "and gone"})
    leaver.socket.transport.abort()

    assert (await watcher.message(lambda f: f["roomId"] == room))["message"] == "and gone"
    await _eventually_no_items(dynamodb, connections_table, leaver_user.user_id)
    # One more round trip, so the stage has finished with the dropped connection's task.
    assert (await watcher.request({"action": "joinRoom", "roomId": room}))["type"] == "ack"
    logs = stage.logs()[logged_before:]
    assert "Cannot write to closing transport" not in logs
    assert "Error handling request" not in logs
    assert "Traceback" not in logs


@pytest.fixture(scope="module")
def racing_stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStage]:
    """A stage whose $connect has a message broadcast to `general` before it returns."""
    workdir = tmp_path_factory.mktemp("race")
    stack = json.loads(STACK_FILE.read_text())
    stack["functions"]["connect"]["handler"] = (
        "tests.integration.race_handlers.connect_during_a_broadcast"
    )
    (workdir / "stack.json").write_text(json.dumps(stack))
    with pytest.MonkeyPatch.context() as patch:  # the stage imports the handler from tests/
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), PYTHONPATH])))
        running = start_stage(workdir / "stage", "--stack", str(workdir / "stack.json"))
    yield running
    running.stop()


async def test_a_410_during_the_handshake_leaves_the_new_connection_in_place(racing_stage, http):
    """A broadcast that reaches a connection before its handshake completes gets 410, and the
    broadcaster keeps the connection: it joins, sends and receives as any other."""
    user = await Rest(http, racing_stage.rest_url, TIMEOUT).new_user("racer")
    peer = await Peer.connect(racing_stage.ws_url, user.token, TIMEOUT)
    try:
        fanned_out = [
            json.loads(line)
            for line in racing_stage.logs().splitlines()
            if '"batch fanned out"' in line
        ]
        assert any(line.get("gone") == 1 for line in fanned_out), (
            f"@connections did not answer 410 during the handshake: {fanned_out}"
        )
        room = unique_room()
        await peer.join(room)
        for where in (room, "general"):
            ack = await peer.request({"action": "sendMessage", "roomId": where, "message": "hi"})
            assert ack.get("type") == "ack", ack
            await peer.message(lambda f, w=where: f["roomId"] == w and f["message"] == "hi")
    finally:
        await peer.close()


async def test_an_unmasked_client_frame_closes_with_1002_unrouted(stage, user, dynamodb):
    """RFC 6455 says a server must close on a client frame that is not masked: 1002, and the
    frame is never routed."""
    from tests.support.raw_ws import RawSocket, frame

    raw = await RawSocket.connect(stage.ws_url, user.token)
    try:
        await raw.send(frame(b'{"action":"joinRoom","roomId":"unmasked-room"}', masked=False))
        frames, code = await raw.until_closed()
    finally:
        raw.close()
    assert code == 1002
    assert frames == []
