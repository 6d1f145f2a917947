"""A client that never reads is cut off, as API Gateway drops it, without a duplicate and
without stalling anyone else's broadcasts."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator

import pytest

from conformance.client import Rest, unique_room
from tests.support.raw_ws import TEXT, RawSocket, frame
from tests.support.stage_process import RunningStage, start_stage

BIG = "😀" * 4000  # the largest message: about 16 KB on the wire
MESSAGES = 120


@pytest.fixture(scope="module")
def tight_stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStage]:
    """A stage that cuts off a client with more than 256 KB unread."""
    running = start_stage(tmp_path_factory.mktemp("tight"), "--max-unread-bytes", "262144")
    yield running
    running.stop()


@pytest.mark.timeout(240)
async def test_a_client_that_never_reads_is_cut_off_without_duplicates_or_stalling_others(
    tight_stage, http, connect
):
    """A member that stops reading while its room gets 2 MB of messages is dropped once its
    unread frames pass the limit; it never gets a message twice; the room's other member gets
    every message once, and a member of another room hears its own message meanwhile."""
    room, elsewhere = unique_room(), unique_room()
    rest = Rest(http, tight_stage.rest_url, 10)
    slow_user = await rest.new_user("slow")
    slow = await RawSocket.connect(tight_stage.ws_url, slow_user.token, receive_buffer=4096)
    await slow.send(frame(json.dumps({"action": "joinRoom", "roomId": room}).encode()))
    ack = await slow.receive()
    assert ack is not None and json.loads(ack.payload)["type"] == "ack"
    sender = await connect(await rest.new_user("sender"), tight_stage)
    await sender.join(room)
    other = await connect(await rest.new_user("other"), tight_stage)
    await other.join(elsewhere)

    sent = []
    for n in range(MESSAGES):
        said = await sender.request({"action": "sendMessage", "roomId": room, "message": BIG})
        assert said["type"] == "ack", said
        sent.append(said["messageId"])
        if n == MESSAGES // 2:  # mid-flood: another room's broadcast still goes out
            mine = await other.request(
                {"action": "sendMessage", "roomId": elsewhere, "message": "meanwhile"}
            )
            meanwhile = mine["messageId"]
            assert await other.message(lambda f, m=meanwhile: f["messageId"] == m)

    heard = Counter()
    for _ in sent:
        heard[(await sender.message(lambda f: f["roomId"] == room))["messageId"]] += 1
    assert heard == Counter(sent), "the member that reads got a message twice or not at all"

    deadline = asyncio.get_running_loop().time() + 60
    while "Connection too slow" not in tight_stage.stderr.read_text():
        assert asyncio.get_running_loop().time() < deadline, "the slow client was not cut off"
        await asyncio.sleep(0.2)
    got: Counter[str] = Counter()
    while (received := await slow.receive(timeout=5)) is not None:
        if received.opcode == TEXT:
            payload = json.loads(received.payload)
            if payload.get("type") == "message":
                got[payload["messageId"]] += 1
    slow.close()
    assert got and max(got.values()) == 1, "the slow client got a message twice"
    assert len(got) < len(sent), "the slow client was not cut off before the end"
