"""A raw WebSocket client for tests that must send what no well-behaved client sends:
unmasked frames, invalid UTF-8, bad opcodes, frames cut anywhere. RFC 6455 framing by hand."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

__all__ = ["RawFrame", "RawSocket", "frame"]

TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


def frame(
    payload: bytes,
    opcode: int = TEXT,
    *,
    fin: bool = True,
    masked: bool = True,
    rsv: int = 0,
    length: int | None = None,
) -> bytes:
    """One frame as a client puts it on the wire; ``length`` may lie about the payload."""
    size = len(payload) if length is None else length
    first = (0x80 if fin else 0) | (rsv & 0x7) << 4 | (opcode & 0xF)
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head = struct.pack("!BB", first, mask_bit | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


@dataclass
class RawFrame:
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        if self.opcode != CLOSE:
            return None
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else 1005


class RawSocket:
    """A WebSocket connection after its handshake, over a plain asyncio stream."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(
        cls, ws_url: str, token: str, timeout: float = 10.0, receive_buffer: int | None = None
    ) -> RawSocket:
        """Open and upgrade a connection; ``receive_buffer`` shrinks the kernel's (a client
        that reads slowly fills it at once)."""
        url = urlsplit(ws_url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.wait_for(
            asyncio.get_running_loop().sock_connect(sock, (url.hostname, url.port)), timeout
        )
        reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {url.path}?token={quote(token)} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        writer.write(request.encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(f"handshake refused: {head[:80]!r}")
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def receive(self, timeout: float = 10.0) -> RawFrame | None:
        """The next frame from the server (fragments are not joined), None once it closed."""
        try:
            head = await asyncio.wait_for(self.reader.readexactly(2), timeout)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        size = head[1] & 0x7F
        if size == 126:
            size = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        payload = await asyncio.wait_for(self.reader.readexactly(size), timeout)
        return RawFrame(head[0] & 0xF, payload)

    async def until_closed(self, timeout: float = 10.0) -> tuple[list[RawFrame], int | None]:
        """Every frame until the server's close (its code) or the end of the stream (None)."""
        frames: list[RawFrame] = []
        while True:
            received = await self.receive(timeout)
            if received is None:
                return frames, None
            if received.opcode == CLOSE:
                return frames, received.close_code
            frames.append(received)

    def close(self) -> None:
        self.writer.close()
