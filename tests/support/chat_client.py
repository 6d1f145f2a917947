"""A small async client for the chatstack contract, for tests: REST calls and a WebSocket peer."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import websockets
from websockets.asyncio.client import ClientConnection

__all__ = ["TIMEOUT", "Peer", "Rest", "User", "unique_email", "unique_room"]

# One timeout unit for every wait, scaled for slow machines: CHATSTACK_TEST_TIMEOUT_SCALE=3.
TIMEOUT = 5.0 * float(os.environ.get("CHATSTACK_TEST_TIMEOUT_SCALE", "1"))
PASSWORD = "correct horse 1"


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.test"


def unique_room() -> str:
    return f"room-{uuid.uuid4().hex[:12]}"


@dataclass
class User:
    user_id: str
    email: str
    username: str
    token: str


class Rest:
    """POSTs JSON to a stage's REST API."""

    def __init__(self, session: aiohttp.ClientSession, rest_url: str) -> None:
        self.session = session
        self.rest_url = rest_url

    async def post(self, path: str, body: Any = None, *, raw: bytes | str | None = None) -> tuple:
        """Returns (status, parsed JSON or text, headers)."""
        kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
        async with self.session.post(self.rest_url + path, **kwargs) as response:
            text = await response.text()
            try:
                payload: Any = json.loads(text)
            except ValueError:
                payload = text
            return response.status, payload, response.headers

    async def new_user(self, username: str = "tester") -> User:
        """Sign up and log in a fresh user."""
        email = unique_email()
        status, body, _ = await self.post(
            "/signup", {"email": email, "password": PASSWORD, "username": username}
        )
        assert status == 201, f"signup: expected 201, got {status} {body}"
        status, body, _ = await self.post("/login", {"email": email, "password": PASSWORD})
        assert status == 200, f"login: expected 200, got {status} {body}"
        return User(body["user"]["userId"], email, username, body["token"])


class Peer:
    """One WebSocket connection; broadcasts and replies are queued apart."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.broadcasts: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, ws_url: str, token: str) -> Peer:
        socket = await websockets.connect(
            f"{ws_url}?token={token}", open_timeout=TIMEOUT, max_size=None, proxy=None
        )
        return cls(socket)

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                frame = json.loads(raw)
                queue = self.broadcasts if frame.get("type") == "message" else self.replies
                queue.put_nowait(frame)
        except websockets.ConnectionClosed:
            pass

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.socket.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def reply(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next non-broadcast frame (ack, messages, error)."""
        try:
            return await asyncio.wait_for(self.replies.get(), timeout)
        except TimeoutError:
            raise AssertionError(f"no reply frame within {timeout} s") from None

    async def request(self, frame: dict[str, Any] | str) -> dict[str, Any]:
        await self.send(frame)
        return await self.reply()

    async def broadcast(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(self.broadcasts.get(), timeout)
        except TimeoutError:
            raise AssertionError(f"no broadcast within {timeout} s") from None

    async def join(self, room_id: str) -> None:
        answer = await self.request({"action": "joinRoom", "roomId": room_id})
        assert answer == {"type": "ack", "action": "joinRoom", "roomId": room_id}, answer

    async def closed(self, timeout: float = TIMEOUT) -> tuple[int | None, str | None]:
        """Wait for the server to close; returns (code, reason)."""
        try:
            await asyncio.wait_for(self.socket.wait_closed(), timeout)
        except TimeoutError:
            raise AssertionError(f"connection still open after {timeout} s") from None
        close = self.socket.protocol.close_rcvd
        return (close.code, close.reason) if close else (None, None)

    async def close(self) -> None:
        await self.socket.close()
        await self._reader
