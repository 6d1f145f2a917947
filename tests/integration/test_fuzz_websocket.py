"""A WebSocket-level fuzzer against a running stage: random and malformed JSON, binary frames,
invalid UTF-8, fragmented, oversize, unmasked and malformed frames, bursts — from a seeded
generator, bounded in count. Each hostile connection gets answers (error frames, acks) or a
clean close with a protocol code; the stage stays up for a bystander, whose room, history and
membership nothing touches."""

from __future__ import annotations

import json
import os
import random
import struct

from conformance.client import Peer, unique_room
from tests.support.raw_ws import BINARY, CONTINUATION, PING, TEXT, RawSocket, frame

SEED = int(os.environ.get("CHATSTACK_FUZZ_SEED", "18"))
CONNECTIONS = 30
CLOSE_CODES = {1000, 1001, 1002, 1003, 1007, 1009}
ACTIONS = ["sendMessage", "getMessages", "joinRoom", "leaveRoom", "$connect", "$default", "x"]


def _json_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 2**63, 1e308, 3.5])
    if kind == 2:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(12)))
    if kind == 3:
        return rng.choice(["general", "a" * 65, "", " ", "<script>", "room#x", "../.."])
    if kind == 4:
        return "x" * rng.choice([1, 4000, 4001, 9000])
    if kind == 5:
        return [_json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(["action", "roomId", "message", "limit", "before", "k"]): _json_value(
            rng, depth + 1
        )
        for _ in range(rng.randrange(5))
    }


def _hostile_frame(rng: random.Random, victim_room: str) -> tuple[bytes, bool | None]:
    """One frame (or run of frames) and whether it ends the connection (a protocol error);
    None: the frame is cut short and the client hangs up."""
    kind = rng.randrange(14)
    if kind <= 3:  # a random frame with a plausible action, aimed at the bystander's room too
        body = {"action": rng.choice(ACTIONS), "roomId": rng.choice([victim_room, unique_room()])}
        body.update({"message": _json_value(rng), "limit": _json_value(rng)})
        if body["action"] == "joinRoom":
            body["roomId"] = unique_room()  # joining is allowed: never the bystander's room
        return frame(json.dumps(body).encode()), False
    if kind == 4:  # random JSON of any shape
        return frame(json.dumps(_json_value(rng)).encode()), False
    if kind == 5:  # malformed JSON
        return frame(rng.choice([b"{", b'{"action":', b"[1,2", b"nul", b"\x00", b"{}" * 50])), False
    if kind == 6:  # a binary frame of random bytes
        return frame(os.urandom(rng.randrange(1, 300)), BINARY), False
    if kind == 7:  # a message in several fragments
        text = json.dumps({"action": "getMessages", "roomId": victim_room}).encode()
        cut = rng.randrange(1, len(text))
        first = frame(text[:cut], TEXT, fin=False)
        return first + frame(text[cut:], CONTINUATION), False
    if kind == 8:  # a burst of valid frames
        burst = json.dumps({"action": "sendMessage", "roomId": victim_room, "message": "x"})
        return b"".join(frame(burst.encode()) for _ in range(20)), False
    if kind == 9:  # invalid UTF-8 in a text frame
        return frame(b'{"action":"\xff\xfe"}'), True
    if kind == 10:  # a frame over 32 KB
        return frame(b"x" * (32 * 1024 + rng.randrange(1, 5000))), True
    if kind == 11:  # an unmasked frame
        return frame(b'{"action":"getMessages"}', masked=False), True
    if kind == 12:  # a reserved opcode, reserved bits, or a continuation with nothing to continue
        return (
            rng.choice(
                [
                    frame(b"{}", 0x3),
                    frame(b"{}", rsv=rng.randrange(1, 8)),
                    frame(b"{}", CONTINUATION),
                    frame(b"x" * 200, PING),  # a control frame over 125 bytes
                ]
            ),
            True,
        )
    # a header that announces more than the client will ever send: it then hangs up
    return struct.pack("!BBH", 0x81, 0x80 | 126, 5000) + b"abcd" + b"short", None


async def test_hostile_frames_get_answers_or_a_clean_close_and_touch_no_one_else(
    stage, rest, connect
):
    """30 connections send seeded hostile frames; each gets JSON answers without a trace, or a
    close with a protocol code; meanwhile a bystander's room keeps only its own messages and
    its broadcasts still arrive."""
    rng = random.Random(SEED)
    bystander_user = await rest.new_user("bystander")
    bystander: Peer = await connect(bystander_user)
    victim_room = unique_room()
    await bystander.join(victim_room)
    fuzzer = await rest.new_user("fuzzer")
    outcomes: list[str] = []
    for _ in range(CONNECTIONS):
        raw = await RawSocket.connect(stage.ws_url, fuzzer.token)
        try:
            closing: bool | None = False
            for _ in range(rng.randrange(1, 6)):
                data, closing = _hostile_frame(rng, victim_room)
                try:
                    await raw.send(data)
                except ConnectionError:
                    break
                if closing is not False:
                    break
            if closing is None:  # cut short: hang up; the stage must simply let go
                raw.writer.write_eof()
            elif not closing:
                await raw.send(frame(b"", 0x8))  # our close: the server answers it
            frames, code = await raw.until_closed(timeout=15)
        finally:
            raw.close()
        for received in frames:
            text = received.payload.decode("utf-8")
            assert "Traceback" not in text and 'File "' not in text
            assert isinstance(json.loads(text), dict)
        if closing is not None:
            assert code in CLOSE_CODES, f"closed with {code} (None: dropped, no close frame)"
        outcomes.append(str(code))
    assert len(set(outcomes)) >= 2  # both clean closes and protocol errors were exercised

    said = await bystander.request(
        {"action": "sendMessage", "roomId": victim_room, "message": "still here"}
    )
    assert said["type"] == "ack"
    heard = await bystander.message(lambda f: f["messageId"] == said["messageId"])
    assert heard["message"] == "still here"
    history = await bystander.request({"action": "getMessages", "roomId": victim_room})
    assert [m["userId"] for m in history["messages"]] == [bystander_user.user_id]
