"""The suite's own WebSocket client (conformance/client.py) sends frames as API Gateway needs
them: JSON in UTF-8, and a large message in frames of at most 32 KB when asked to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from conformance.client import FRAME_LIMIT_BYTES, Peer


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[str, list[tuple[bool, bytes]]]]:
    """A loopback WebSocket server that records every data frame it receives, as raw frames."""
    frames: list[tuple[bool, bytes]] = []

    async def record(connection: ServerConnection) -> None:
        original = connection.protocol.events_received

        def spy() -> list:
            events = original()
            frames.extend((e.fin, e.data) for e in events if e.opcode.value in (0, 1, 2))
            return events

        connection.protocol.events_received = spy  # type: ignore[method-assign]
        async for _ in connection:
            pass

    async with serve(record, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/dev", frames


async def _eventually(condition, what: str) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


async def test_frames_carry_non_ascii_text_as_utf8(recorder):
    """A frame with é and 😀 goes out as their UTF-8 bytes, never as \\u escapes (3x larger)."""
    url, frames = recorder
    peer = await Peer.connect(url, "token", 5.0)
    text = "é" * 2000 + "😀" * 2000
    await peer.send({"action": "sendMessage", "roomId": "r", "message": text})
    await _eventually(lambda: frames, "the frame")
    (fin, data), *_ = frames
    assert fin and text.encode("utf-8") in data
    assert b"\\u" not in data
    assert len(data) < FRAME_LIMIT_BYTES
    await peer.close()


async def test_a_large_message_can_be_sent_in_frames_under_the_limit(recorder):
    """send_in_frames splits one message into continuation frames of at most 32 KB each."""
    url, frames = recorder
    peer = await Peer.connect(url, "token", 5.0)
    text = "ü" * 60_000
    await peer.send_in_frames({"action": "sendMessage", "roomId": "r", "message": text})
    await _eventually(lambda: frames and frames[-1][0], "the last frame")
    assert len(frames) > 1
    assert all(len(data) <= FRAME_LIMIT_BYTES for _, data in frames)
    assert [fin for fin, _ in frames] == [False] * (len(frames) - 1) + [True]
    assert text in b"".join(data for _, data in frames).decode("utf-8")
    await peer.close()
