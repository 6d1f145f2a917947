"""A blocking chatstack WebSocket client for Locust: websocket-client plus one receive greenlet.

Every measured operation is reported through Locust's request event, with the operation as the
request type and the scenario as the name:

========== =============================================================================
type       response time
========== =============================================================================
connect    the WebSocket handshake (``$connect`` runs inside it); a refusal fails it
joinRoom   ``joinRoom`` sent → its ack
leaveRoom  ``leaveRoom`` sent → its ack
sendMessage ``sendMessage`` sent → its ack; an error frame or no ack in time fails it
broadcast  one delivery to one recipient: its receive time − the sender's wall-clock time,
           which the sender wrote into the message text; a broadcast for a room this
           connection is not in, or a repeat, fails it
close      only failures: a close by the server or a lost connection
frame      only failures: an error frame no request explains, or an unreadable frame
========== =============================================================================

Delivery is counted apart, in :class:`loadtests.metrics.Receipts` (expected vs received).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
import websocket
from gevent.event import AsyncResult, Event

from loadtests.metrics import Receipts

# Frames the server sends on its own: a user's rooms or chats changed (contract v2, CONTRACT.md
# §4, §6); receipts, typing and presence (v3, RECEIPTS.md §9-§11).
NOTICES = frozenset(
    {"roomJoined", "roomLeft", "chatAdded", "chatRemoved", "receipt", "typing", "presence"}
)
CHAT_PREFIX = "chat:"  # a chat's conversation key in the books: chat:{chatId}

__all__ = [
    "BadFrame",
    "ChatClient",
    "ChatError",
    "ClientContext",
    "DuplicateDelivery",
    "ErrorFrame",
    "NoAck",
    "Refused",
    "UnexpectedClose",
    "WrongRoom",
]

DEFAULT_ROOM = "general"  # every connection starts in it (the contract)
CLOSE_WAIT_S = 1.0
LEFT_ROOM_SLACK_S = 1.0  # a broadcast sent this long after a leave still is not a leak
READ_BYTES = 65536  # one recv per wake-up, however many frames arrived


class ChatError(Exception):
    """Root of what a chat operation can fail with (shown in Locust's failures)."""


class Refused(ChatError):
    """The handshake was not accepted (HTTP status, timeout, connection refused)."""


class ErrorFrame(ChatError):
    """The stage answered with an ``error`` frame."""

    def __init__(self, frame: dict[str, Any]) -> None:
        self.code = str(frame.get("code"))
        super().__init__(f"{frame.get('action') or 'frame'}: {self.code}: {frame.get('message')}")


class NoAck(ChatError):
    """No ack arrived in time."""


class UnexpectedClose(ChatError):
    """The server closed the connection, or it was lost."""


class WrongRoom(ChatError):
    """A broadcast arrived for a room this connection is not in (isolation broken)."""


class DuplicateDelivery(ChatError):
    """The same message arrived twice on one connection."""


class BadFrame(ChatError):
    """A frame that is not JSON or not a frame of the contract."""


@dataclass
class ClientContext:
    """What every client of one process shares during one run."""

    fire: Callable[..., Any]  # environment.events.request.fire
    receipts: Receipts
    run_id: str
    node: str  # unique among the processes of the run
    ack_timeout: float = 10.0
    connect_timeout: float = 10.0
    message_bytes: int = 64


_members = itertools.count(1)


class BufferedWebSocket(websocket.WebSocket):
    """websocket-client's ``WebSocket`` reading its socket up to 64 KiB at a time.

    websocket-client asks the socket for exactly what it parses next — the 2-byte header, the
    extended length, the payload — so a frame costs three ``recv`` calls and the wait costs one
    more that would block. Served from one buffer, a wake-up costs one ``recv`` for all the
    frames that arrived (a burst of broadcasts to a big room reaches each connection at once).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._buffer = b""
        self._offset = 0

    def _recv(self, bufsize: int) -> bytes:
        buffer, offset = self._buffer, self._offset
        if offset >= len(buffer):
            buffer, offset = super()._recv(READ_BYTES), 0  # raises when the peer is gone
        chunk = buffer[offset : offset + bufsize]
        self._buffer, self._offset = buffer, offset + len(chunk)
        return chunk


class ChatClient:
    """One connection of one user: connect, join, leave, send; broadcasts are read in a greenlet.

    ``send`` does not wait for its ack (the load stays open-loop); the receive greenlet measures
    it. ``join`` and ``leave`` wait for theirs.
    """

    def __init__(self, ws_url: str, token: str, ctx: ClientContext, scenario: str) -> None:
        separator = "&" if "?" in ws_url else "?"
        self.url = f"{ws_url}{separator}token={token}"
        self.ctx = ctx
        self.scenario = scenario
        self.member = next(_members)
        self.rooms: dict[str, float] = {}  # joined (ack received) → when
        self._joining: dict[str, AsyncResult] = {}
        self._leaving: dict[str, AsyncResult] = {}
        self._left: dict[str, float] = {}
        self._acks: dict[str, tuple[float, float]] = {}  # clientMessageId → (wall, perf)
        self._seq = itertools.count(1)
        self._ws: websocket.WebSocket | None = None
        self._reader: gevent.Greenlet | None = None
        self._closing = False
        self._gone = Event()  # set once the connection is closed or lost

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._closing

    # -- reporting ------------------------------------------------------------------------------

    def _report(
        self, kind: str, ms: float, length: int = 0, exc: BaseException | None = None
    ) -> None:
        self.ctx.fire(
            request_type=kind,
            name=self.scenario,
            response_time=ms,
            response_length=length,
            exception=exc,
            context={},
        )

    # -- operations -----------------------------------------------------------------------------

    def connect(self) -> bool:
        """Open the connection (it starts in ``general``); False when refused."""
        start = time.perf_counter()
        try:
            ws = websocket.create_connection(
                self.url,
                timeout=self.ctx.connect_timeout,
                class_=BufferedWebSocket,
                skip_utf8_validation=True,
                enable_multithread=True,
            )
        except websocket.WebSocketBadStatusException as exc:
            error: ChatError = Refused(f"HTTP {exc.status_code}")
        except (websocket.WebSocketException, OSError) as exc:
            error = Refused(f"{type(exc).__name__}: {exc}")
        else:
            ws.settimeout(None)
            self._ws = ws
            self.rooms[DEFAULT_ROOM] = time.time()
            self._report("connect", (time.perf_counter() - start) * 1000)
            self._reader = gevent.spawn(self._read, ws)
            return True
        self._report("connect", (time.perf_counter() - start) * 1000, exc=error)
        return False

    def wait_gone(self, timeout: float) -> bool:
        """Block until the connection is closed or lost (True), at most ``timeout`` s."""
        return self._gone.wait(timeout)

    def join(self, room: str) -> bool:
        """Join ``room`` and wait for the ack; False on an error frame, no ack or a lost socket."""
        return self._membership("joinRoom", room, self._joining)

    def enter_chat(self, key: str) -> None:
        """From now on this connection is owed ``key``'s messages (``chat:{chatId}``): a chat
        needs no join — every connection of a participant receives its messages."""
        if self._ws is not None and not self._closing and key not in self.rooms:
            now = time.time()
            self.rooms[key] = now
            self._left.pop(key, None)
            self.ctx.receipts.joined(self.member, key, now)

    def leave(self, room: str) -> bool:
        """Leave ``room`` and wait for the ack."""
        joined = self.rooms.pop(room, None)
        if joined is not None:
            now = time.time()
            self._left[room] = now
            self.ctx.receipts.left(self.member, room, now)
        return self._membership("leaveRoom", room, self._leaving)

    def _membership(self, action: str, room: str, waiting: dict[str, AsyncResult]) -> bool:
        if self._ws is None:
            return False
        reply = waiting[room] = AsyncResult()
        start = time.perf_counter()
        try:
            self._ws.send(json.dumps({"action": action, "roomId": room}))
            error = reply.get(timeout=self.ctx.ack_timeout)
        except gevent.Timeout:
            error = NoAck(f"{action}: no ack within {self.ctx.ack_timeout:g} s")
        except (websocket.WebSocketException, OSError) as exc:
            error = UnexpectedClose(f"{action}: {exc}")
        finally:
            waiting.pop(room, None)
        elapsed = (time.perf_counter() - start) * 1000
        self._report(action, elapsed, exc=error)
        if error is None and action == "joinRoom":
            now = time.time()
            self.rooms[room] = now
            self._left.pop(room, None)
            self.ctx.receipts.joined(self.member, room, now)
        return error is None

    def send(self, room: str, attachments: list[dict[str, Any]] | None = None) -> None:
        """Send one message to ``room`` (a room's id, or ``chat:{chatId}``) carrying the send
        time (and ``attachments``, uploads of this user); its ack is measured on arrival."""
        if self._ws is None:
            return
        key = f"{self.ctx.run_id}.{self.ctx.node}.{self.member}.{next(self._seq)}"
        sent_at = time.time()
        text = f"{self.ctx.run_id} {sent_at:.6f} "
        text += "x" * max(0, self.ctx.message_bytes - len(text))
        target = (
            {"chatId": room.removeprefix(CHAT_PREFIX)}
            if room.startswith(CHAT_PREFIX)
            else {"roomId": room}
        )
        frame: dict[str, Any] = {
            "action": "sendMessage",
            **target,
            "message": text,
            "clientMessageId": key,
        }
        if attachments:
            frame["attachments"] = attachments
        self._acks[key] = (sent_at, time.perf_counter())
        try:
            self._ws.send(json.dumps(frame))
        except (websocket.WebSocketException, OSError) as exc:
            self._acks.pop(key, None)
            self._report("sendMessage", 0, exc=UnexpectedClose(f"sendMessage: {exc}"))
            return
        self.ctx.receipts.sent(key, room, sent_at)

    def expire_acks(self, older_than: float | None = None) -> None:
        """Fail every ``sendMessage`` still without an ack after ``older_than`` s (ack timeout)."""
        limit = self.ctx.ack_timeout if older_than is None else older_than
        now = time.perf_counter()
        for key, (_, perf) in list(self._acks.items()):
            if now - perf < limit:
                break  # in send order: the rest are younger
            del self._acks[key]
            error = NoAck(f"sendMessage: no ack within {limit:g} s")
            self._report("sendMessage", (now - perf) * 1000, exc=error)

    def close(self, wait: float = CLOSE_WAIT_S) -> None:
        """Leave every room (for the books), send a close frame, wait ``wait`` s for the reply."""
        if self._ws is None or self._closing:
            return
        self._closing = True
        self._gone.set()
        self._forget_rooms()
        self.expire_acks()
        ws, reader = self._ws, self._reader
        try:
            ws.send_close()
            if reader is not None:
                reader.join(timeout=wait)
        except (websocket.WebSocketException, OSError):
            pass
        finally:
            ws.shutdown()
            if reader is not None:
                reader.kill(block=False)
            self._ws = None

    def _forget_rooms(self) -> None:
        """The connection is going: it leaves every room now (broadcasts already on their way
        may still arrive)."""
        now = time.time()
        for room in self.rooms:
            self.ctx.receipts.left(self.member, room, now)
            self._left[room] = now
        self.rooms.clear()

    # -- receiving ------------------------------------------------------------------------------

    def _read(self, ws: websocket.WebSocket) -> None:
        while True:
            try:
                opcode, data = ws.recv_data()
            except (websocket.WebSocketException, OSError) as exc:
                self._lost(f"connection lost: {type(exc).__name__}: {exc}")
                return
            now = time.time()
            if opcode == websocket.ABNF.OPCODE_TEXT:
                self._on_frame(data, now)
            elif opcode == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                self._lost(f"closed by the server with code {code}")
                return

    def _lost(self, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        self._gone.set()
        self._forget_rooms()
        for waiting in (self._joining, self._leaving):
            for reply in waiting.values():
                reply.set(UnexpectedClose(reason))
        self._report("close", 0, exc=UnexpectedClose(reason))
        if self._ws is not None:
            self._ws.shutdown()
            self._ws = None

    def _on_frame(self, data: bytes, now: float) -> None:
        try:
            frame = json.loads(data)
            kind = frame.get("type")
        except (ValueError, AttributeError):
            self._report("frame", 0, len(data), BadFrame(f"not a JSON object: {data[:100]!r}"))
            return
        if kind == "message":
            self._on_broadcast(frame, now, len(data))
        elif kind == "ack":
            self._on_ack(frame)
        elif kind == "error":
            self._on_error(frame)
        elif kind in NOTICES:
            self._on_notice(frame)
        elif kind != "messages":
            self._report("frame", 0, len(data), BadFrame(f"unexpected frame: {data[:100]!r}"))

    def _on_notice(self, frame: dict[str, Any]) -> None:
        """Notices: the user's rooms or chats changed elsewhere, receipts, typing, presence
        (nothing to measure here; a scenario that cares overrides this)."""

    def _on_ack(self, frame: dict[str, Any]) -> None:
        action = frame.get("action")
        if action == "sendMessage":
            sent = self._acks.pop(frame.get("clientMessageId") or "", None)
            if sent is not None:
                error = None
                if frame.get("duplicate"):
                    error = BadFrame("sendMessage: a fresh clientMessageId acked as a duplicate")
                self._report("sendMessage", (time.perf_counter() - sent[1]) * 1000, exc=error)
            return
        waiting = self._joining if action == "joinRoom" else self._leaving
        reply = waiting.get(frame.get("roomId") or "")
        if reply is not None:
            reply.set(None)

    def _on_error(self, frame: dict[str, Any]) -> None:
        action = frame.get("action")
        if action == "sendMessage" and self._acks:
            key = next(iter(self._acks))  # frames of a connection are answered in order
            _, perf = self._acks.pop(key)
            self._report("sendMessage", (time.perf_counter() - perf) * 1000, exc=ErrorFrame(frame))
            return
        waiting = {"joinRoom": self._joining, "leaveRoom": self._leaving}.get(action or "")
        if waiting:
            reply = next(iter(waiting.values()))
            reply.set(ErrorFrame(frame))
            return
        self._report("frame", 0, exc=ErrorFrame(frame))

    def _on_broadcast(self, frame: dict[str, Any], now: float, length: int) -> None:
        chat = frame.get("chatId")
        room = f"{CHAT_PREFIX}{chat}" if chat else frame.get("roomId") or ""
        parts = str(frame.get("message", "")).split(" ", 2)
        ours = len(parts) == 3 and parts[0] == self.ctx.run_id
        try:
            sent_at = float(parts[1]) if ours else frame["timestamp"] / 1000
        except (KeyError, TypeError, ValueError):
            self._report("broadcast", 0, length, BadFrame("a broadcast without a timestamp"))
            return
        latency = max(0.0, (now - sent_at) * 1000)
        if room not in self.rooms and room not in self._joining:
            left = self._left.get(room)
            if left is None or sent_at > left + LEFT_ROOM_SLACK_S:
                what = f"chat {chat}" if chat else f"room {room}"
                error = WrongRoom(f"a broadcast for {what}, which this connection is not in")
                self._report("broadcast", latency, length, error)
                return
        if not ours:
            return  # another run's message, in a room this connection shares with it
        key = str(frame.get("clientMessageId"))
        if not self.ctx.receipts.received(self.member, room, key, sent_at):
            self._report("broadcast", latency, length, DuplicateDelivery(f"{key} arrived twice"))
            return
        self._report("broadcast", latency, length)
