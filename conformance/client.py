"""A small async client of the chatstack contract: REST calls and WebSocket peers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import websockets
from websockets.asyncio.client import ClientConnection

from conformance import trace
from conformance.errors import PreconditionFailed, StageUnreachable

__all__ = [
    "FRAME_LIMIT_BYTES",
    "MESSAGE_LIMIT_BYTES",
    "PASSWORD",
    "Peer",
    "Rest",
    "RestAnswer",
    "User",
    "encode",
    "fragments",
    "is_ack",
    "unique_email",
    "unique_room",
]

PASSWORD = "correct horse 1"
# API Gateway's WebSocket limits (CONTRACT.md §3): a larger frame, or message, closes with 1009.
FRAME_LIMIT_BYTES = 32 * 1024
MESSAGE_LIMIT_BYTES = 128 * 1024
Frame = dict[str, Any]


def encode(frame: Frame) -> str:
    """A frame as JSON text with non-ASCII characters kept (sent as UTF-8)."""
    return json.dumps(frame, ensure_ascii=False)


def fragments(text: str, frame_bytes: int) -> list[str]:
    """``text`` cut into pieces of at most ``frame_bytes`` UTF-8 bytes, at character bounds."""
    data, pieces, start = text.encode("utf-8"), [], 0
    while start < len(data):
        end = min(start + frame_bytes, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # inside a multi-byte character
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces


def unique_email() -> str:
    return f"conf-{uuid.uuid4().hex[:16]}@example.test"


def unique_room() -> str:
    return f"conf-{uuid.uuid4().hex[:16]}"


def is_ack(frame: Any, action: str, room_id: str) -> bool:
    """Whether ``frame`` is the ack of ``action`` on ``room_id`` (more fields are allowed)."""
    return isinstance(frame, dict) and {k: frame.get(k) for k in ("type", "action", "roomId")} == {
        "type": "ack",
        "action": action,
        "roomId": room_id,
    }


@dataclass
class User:
    user_id: str
    email: str
    username: str
    token: str
    password: str = PASSWORD


@dataclass
class RestAnswer:
    status: int
    body: Any
    headers: Any
    text: str

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.text[:500]}"


class Rest:
    """JSON over a stage's REST API."""

    def __init__(self, session: aiohttp.ClientSession, rest_url: str, timeout: float) -> None:
        self.session = session
        self.rest_url = rest_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout * 4)

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict | None = None,
    ) -> RestAnswer:
        kwargs: dict[str, Any] = {"headers": headers or {}, "timeout": self.timeout}
        if raw is not None:
            kwargs["data"] = raw
        elif body is not None:
            kwargs["json"] = body
        url = self.rest_url + path
        recorder = trace.current()
        try:
            async with self.session.request(method, url, **kwargs) as response:
                text = await response.text()
        except aiohttp.ClientConnectorError as exc:
            if recorder:
                recorder.http(method, url, raw if raw is not None else body, None, str(exc))
            raise StageUnreachable(f"{method} {url}: {exc}") from None
        if recorder:
            recorder.http(method, url, raw if raw is not None else body, response.status, text)
        try:
            payload: Any = json.loads(text)
        except ValueError:
            payload = text
        return RestAnswer(response.status, payload, response.headers, text)

    async def post(
        self, path: str, body: Any = None, *, raw: bytes | str | None = None
    ) -> RestAnswer:
        return await self.call("POST", path, body, raw=raw)

    async def as_user(
        self,
        who: User | str | None,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        params: dict[str, Any] | None = None,
    ) -> RestAnswer:
        """A v2 call with ``Authorization: Bearer`` (``who``: a user, a raw token, or None)."""
        token = who.token if isinstance(who, User) else who
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        if params:
            path += "?" + urlencode({k: str(v) for k, v in params.items()})
        return await self.call(method, path, body, raw=raw, headers=headers)

    async def new_user(self, username: str = "tester") -> User:
        """Sign up and log in a fresh user (a precondition: failures here are harness errors)."""
        email = unique_email()
        answer = await self.post(
            "/signup", {"email": email, "password": PASSWORD, "username": username}
        )
        if answer.status != 201:
            raise PreconditionFailed(f"precondition: signing up a fresh user failed: {answer}")
        answer = await self.post("/login", {"email": email, "password": PASSWORD})
        try:
            return User(answer.body["user"]["userId"], email, username, answer.body["token"])
        except (TypeError, KeyError):
            raise PreconditionFailed(
                f"precondition: logging a fresh user in failed: {answer}"
            ) from None


# Frames that answer a frame of the client; anything else but a ``message`` broadcast is a
# notice the server sends on its own (contract v2: chatAdded, chatRemoved, roomJoined, roomLeft).
REPLY_TYPES = {"ack", "messages", "error"}


class Peer:
    """One WebSocket connection; ``message`` broadcasts, replies and notices are queued apart."""

    def __init__(self, socket: ClientConnection, timeout: float) -> None:
        self.socket = socket
        self.timeout = timeout
        self.trace = trace.current()
        self.broadcasts: asyncio.Queue[tuple[float, Frame]] = asyncio.Queue()
        self.replies: asyncio.Queue[tuple[Frame, int]] = asyncio.Queue()  # with its bytes
        self.notices: asyncio.Queue[Frame] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, ws_url: str, token: str, timeout: float) -> Peer:
        """Open a connection; ``websockets.InvalidStatus`` when the handshake is refused."""
        url = f"{ws_url}?token={token}"
        recorder = trace.current()
        try:
            socket = await websockets.connect(url, open_timeout=timeout, max_size=None, proxy=None)
        except websockets.InvalidStatus as refused:
            if recorder:
                recorder.ws(refused, "refused", f"{url}: HTTP {refused.response.status_code}")
            raise
        except TimeoutError:
            raise
        except OSError as exc:  # refused, no such host: not a handshake the stage answered
            raise StageUnreachable(f"WebSocket {ws_url}: {exc}") from None
        peer = cls(socket, timeout)
        if recorder:
            recorder.ws(peer, "open", url)
        return peer

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                received = time.monotonic()
                if self.trace:
                    self.trace.ws(self, "receive", raw)
                try:
                    frame = json.loads(raw)
                except ValueError:
                    frame = {"type": "<not json>", "raw": str(raw)[:500]}
                if isinstance(frame, dict) and frame.get("type") == "message":
                    self.broadcasts.put_nowait((received, frame))
                elif isinstance(frame, dict) and frame.get("type", "ack") not in REPLY_TYPES:
                    self.notices.put_nowait(frame)  # typeless frames (a gateway error) answer
                else:
                    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
                    reply = frame if isinstance(frame, dict) else {"raw": frame}
                    self.replies.put_nowait((reply, size))
        except websockets.ConnectionClosed:
            pass
        if self.trace:
            close = self.socket.protocol.close_rcvd
            self.trace.ws(self, "closed", f"code {close.code} {close.reason}" if close else None)

    async def send(self, frame: Frame | str) -> None:
        """Send one frame: JSON in UTF-8, as browsers send it (``\\u`` escapes triple the size
        of non-ASCII text, and API Gateway closes a connection whose frame exceeds 32 KB)."""
        text = frame if isinstance(frame, str) else encode(frame)
        if self.trace:
            self.trace.ws(self, "send", text)
        await self.socket.send(text)

    async def send_in_frames(self, frame: Frame | str, frame_bytes: int = 32_000) -> None:
        """Send one message as several frames of at most ``frame_bytes`` each, as a client
        must for a message over API Gateway's 32 KB frame limit (up to its 128 KB limit)."""
        text = frame if isinstance(frame, str) else encode(frame)
        if self.trace:
            self.trace.ws(self, "send", f"(in frames of {frame_bytes} bytes) {text}")
        await self.socket.send(fragments(text, frame_bytes))

    async def reply(self) -> Frame:
        """The next frame that is not a broadcast (ack, messages, error)."""
        return (await self.reply_with_size())[0]

    async def reply_with_size(self) -> tuple[Frame, int]:
        """The next reply frame and its size on the wire, in bytes."""
        try:
            return await asyncio.wait_for(self.replies.get(), self.timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out after {self.timeout} s waiting for a reply frame"
            ) from None

    async def request(self, frame: Frame | str) -> Frame:
        await self.send(frame)
        return await self.reply()

    async def message(self, match: Callable[[Frame], bool] = lambda f: True) -> Frame:
        """The next broadcast ``match`` accepts; others (e.g. other checks' traffic) are dropped."""
        return (await self.timed_message(match))[1]

    async def timed_message(
        self, match: Callable[[Frame], bool] = lambda f: True
    ) -> tuple[float, Frame]:
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"timed out after {self.timeout} s waiting for a broadcast")
            try:
                received, frame = await asyncio.wait_for(self.broadcasts.get(), left)
            except TimeoutError:
                raise AssertionError(
                    f"timed out after {self.timeout} s waiting for a broadcast"
                ) from None
            if match(frame):
                return received, frame

    async def notice(self, match: Callable[[Frame], bool] = lambda f: True) -> Frame:
        """The next notice ``match`` accepts (others are dropped), within the timeout."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            try:
                if left <= 0:
                    raise TimeoutError
                frame = await asyncio.wait_for(self.notices.get(), left)
            except TimeoutError:
                raise AssertionError(
                    f"timed out after {self.timeout} s waiting for a notice frame"
                ) from None
            if match(frame):
                return frame

    def drain_notices(self, match: Callable[[Frame], bool]) -> list[Frame]:
        """Notices already received that ``match`` accepts (the queue is emptied)."""
        frames = []
        while not self.notices.empty():
            frame = self.notices.get_nowait()
            if match(frame):
                frames.append(frame)
        return frames

    async def within_quiet_window(self, match: Callable[[Frame], bool]) -> list[Frame]:
        """Broadcasts ``match`` accepts, received already or within a quiet window (a fifth of
        the timeout). A fan-out's order is free: a leak or a duplicate may come after the
        frames a check waited for, and a round trip alone would not wait for it."""
        found = self.drain(match)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout / 5
        while (left := deadline - loop.time()) > 0:
            try:
                _, frame = await asyncio.wait_for(self.broadcasts.get(), left)
            except TimeoutError:
                break
            if match(frame):
                found.append(frame)
        return found

    async def notices_within_quiet_window(self, match: Callable[[Frame], bool]) -> list[Frame]:
        """Notices ``match`` accepts, received already or within a quiet window (a fifth of the
        timeout): for a frame the stage must never send, which a round trip alone would not
        wait for."""
        found = self.drain_notices(match)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout / 5
        while (left := deadline - loop.time()) > 0:
            try:
                frame = await asyncio.wait_for(self.notices.get(), left)
            except TimeoutError:
                break
            if match(frame):
                found.append(frame)
        return found

    def drain(self, match: Callable[[Frame], bool]) -> list[Frame]:
        """Broadcasts already received that ``match`` accepts (the queue is emptied)."""
        frames = []
        while not self.broadcasts.empty():
            _, frame = self.broadcasts.get_nowait()
            if match(frame):
                frames.append(frame)
        return frames

    async def join(self, room_id: str) -> None:
        """Join ``room_id`` (a precondition: no ack is a harness error, not the check's failure)."""
        try:
            answer = await self.request({"action": "joinRoom", "roomId": room_id})
        except AssertionError as exc:
            raise PreconditionFailed(f"precondition: joinRoom {room_id}: {exc}") from None
        if not is_ack(answer, "joinRoom", room_id):
            raise PreconditionFailed(
                f"precondition: joinRoom {room_id}: expected its ack, got {answer}"
            )

    async def closed(self, within: float | None = None) -> int | None:
        """Wait until the server closes (at most ``within`` seconds, default the timeout);
        returns the close code it sent."""
        within = self.timeout if within is None else within
        try:
            await asyncio.wait_for(self.socket.wait_closed(), within)
        except TimeoutError:
            raise AssertionError(f"connection still open after {within} s") from None
        close = self.socket.protocol.close_rcvd
        return close.code if close else None

    async def close(self) -> None:
        await self.socket.close()
        await self._reader
