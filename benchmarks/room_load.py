"""A measuring WebSocket client for many rooms at once (asyncio, one process).

Connections are grouped into rooms; a *step* sends messages at a total rate, round-robin over
the rooms, each from one of its room's senders, with the send time inside; every connection
records each broadcast of its room. A step's figures count every expected delivery (the room's
members when the message was sent), the missing and doubled ones, and the latency of each
(receive time − send time: one process, one clock). Used by ``benchmarks.stage_scale``.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

__all__ = ["RoomLoad", "StepFigures", "percentile", "sign_up"]

PASSWORD = "bench-password-1"


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank ``p``-th percentile, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def sign_up(
    rest_url: str, users: int, concurrency: int = 8, name: str = "scale"
) -> list[str]:
    """Tokens of ``users`` fresh accounts (signed up and logged in, ``concurrency`` at once),
    e-mails ``{name}-{run}-{i}@example.com`` and usernames ``{name}{i}``."""
    return [token for _, token in await accounts(rest_url, users, concurrency, name)]


async def accounts(
    rest_url: str, users: int, concurrency: int = 8, name: str = "scale"
) -> list[tuple[str, str]]:
    """``(user id, token)`` of ``users`` fresh accounts, as ``sign_up`` makes them."""
    run = uuid.uuid4().hex[:10]
    gate = asyncio.Semaphore(max(concurrency, 1))

    async def one(session: aiohttp.ClientSession, i: int) -> tuple[str, str]:
        email = f"{name}-{run}-{i}@example.com"
        async with gate:
            account = {"email": email, "password": PASSWORD, "username": f"{name}{i}"}
            async with session.post(f"{rest_url}/signup", json=account) as response:
                if response.status != 201:
                    raise RuntimeError(f"signup: {response.status} {await response.text()}")
            credentials = {"email": email, "password": PASSWORD}
            async with session.post(f"{rest_url}/login", json=credentials) as response:
                if response.status != 200:
                    raise RuntimeError(f"login: {response.status} {await response.text()}")
                answer = await response.json()
                return answer["user"]["userId"], answer["token"]

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        return list(await asyncio.gather(*(one(session, i) for i in range(users))))


@dataclass
class StepFigures:
    rate: float
    seconds: float
    messages: int
    expected: int
    received: int
    missing: int
    duplicates: int
    errors: int
    latency_ms: dict[str, float | None]
    ack_ms: dict[str, float | None]
    messages_per_s: float
    deliveries_per_s: float

    def row(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "messages_per_s": round(self.messages_per_s, 1),
            "deliveries_per_s": round(self.deliveries_per_s, 1),
            "p50_ms": _round(self.latency_ms["p50"]),
            "p95_ms": _round(self.latency_ms["p95"]),
            "p99_ms": _round(self.latency_ms["p99"]),
            "ack_p95_ms": _round(self.ack_ms["p95"]),
            "delivery_pct": (
                round(100 * self.received / self.expected, 2) if self.expected else None
            ),
            "missing": self.missing,
            "duplicates": self.duplicates,
            "errors": self.errors,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class _Step:
    tag: str
    sent_ns: dict[int, int] = field(default_factory=dict)  # seq → send time
    expected: int = 0
    seen: set[tuple[int, int]] = field(default_factory=set)  # (seq, connection)
    latencies_ms: list[float] = field(default_factory=list)
    ack_ms: list[float] = field(default_factory=list)
    duplicates: int = 0
    last_receive_ns: int = 0


class RoomLoad:
    """``rooms[k]`` lists the tokens of room k's members; the first ``senders`` of a room talk."""

    def __init__(self, ws_url: str, rooms: Sequence[Sequence[str]], senders: int = 1) -> None:
        self._url = ws_url
        self._tokens = rooms
        self._senders = senders
        self._run = uuid.uuid4().hex[:10]
        self.room_ids = [f"scale-{self._run}-{k}" for k in range(len(rooms))]
        self.sockets: list[list[ClientConnection]] = []
        self._readers: list[asyncio.Task[None]] = []
        self._step: _Step | None = None
        self._joined: dict[tuple[int, int], asyncio.Future[bool]] = {}
        self.errors: list[Any] = []
        self.closed_early = 0
        self._closing = False

    # -- set-up --------------------------------------------------------------------------------

    async def open(self, concurrency: int = 8) -> float:
        """Open and join every connection; returns the seconds it took."""
        started = time.perf_counter()
        gate = asyncio.Semaphore(concurrency)
        self.sockets = [[] for _ in self._tokens]
        jobs = [
            self._open_one(k, i, token, gate)
            for k, tokens in enumerate(self._tokens)
            for i, token in enumerate(tokens)
        ]
        for k, _index, ws in await asyncio.gather(*jobs):
            self.sockets[k].append(ws)
        return time.perf_counter() - started

    async def _open_one(
        self, room: int, index: int, token: str, gate: asyncio.Semaphore
    ) -> tuple[int, int, ClientConnection]:
        async with gate:
            for attempt in range(5):
                try:
                    ws = await connect(
                        f"{self._url}?token={token}", compression=None, proxy=None, max_size=None
                    )
                    break
                except (InvalidStatus, OSError, TimeoutError):
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.2 * 2**attempt)
            self._readers.append(asyncio.create_task(self._read(room, index, ws)))
            for attempt in range(5):
                reply = self._joined[(room, index)] = asyncio.get_running_loop().create_future()
                await ws.send(json.dumps({"action": "joinRoom", "roomId": self.room_ids[room]}))
                if await asyncio.wait_for(reply, timeout=60):
                    return room, index, ws
                await asyncio.sleep(0.2 * 2**attempt)
            raise RuntimeError(f"connection {index} of room {room} could not join")

    # -- receiving -----------------------------------------------------------------------------

    async def _read(self, room: int, index: int, ws: ClientConnection) -> None:
        connection = room * 1_000_000 + index
        try:
            async for raw in ws:
                self._on_frame(room, index, connection, raw, time.perf_counter_ns())
        except ConnectionClosed:
            pass
        if not self._closing:
            self.closed_early += 1

    def _on_frame(self, room: int, index: int, connection: int, raw: Any, now: int) -> None:
        frame = json.loads(raw)
        kind = frame.get("type")
        step = self._step
        if kind == "message":
            body = json.loads(frame["message"])
            if step is None or body.get("step") != step.tag:
                return
            key = (body["seq"], connection)
            if key in step.seen:
                step.duplicates += 1
                return
            step.seen.add(key)
            step.latencies_ms.append((now - body["sentNs"]) / 1e6)
            step.last_receive_ns = now
        elif kind == "ack" and frame.get("action") == "sendMessage" and step is not None:
            tag, _, seq = (frame.get("clientMessageId") or "").rpartition("-")
            if tag == step.tag and seq.isdigit() and int(seq) in step.sent_ns:
                step.ack_ms.append((now - step.sent_ns[int(seq)]) / 1e6)
        elif frame.get("action") == "joinRoom" and kind in ("ack", "error"):
            reply = self._joined.get((room, index))
            if reply is not None and not reply.done():
                reply.set_result(kind == "ack")
        elif kind == "error" or "type" not in frame:
            self.errors.append(frame)

    # -- a step --------------------------------------------------------------------------------

    async def step(self, rate: float, seconds: float, drain: float = 30.0) -> StepFigures:
        """Send for ``seconds`` at ``rate`` messages/s in all; wait up to ``drain`` seconds
        for the deliveries; the step's figures."""
        step = self._step = _Step(tag=uuid.uuid4().hex[:8])
        errors_before = len(self.errors)
        count = max(1, round(rate * seconds))
        started = time.perf_counter()
        for seq in range(count):
            await asyncio.sleep(max(0.0, started + seq / rate - time.perf_counter()))
            room = seq % len(self.sockets)
            members = self.sockets[room]
            sender = members[(seq // len(self.sockets)) % min(self._senders, len(members))]
            sent = time.perf_counter_ns()
            step.sent_ns[seq] = sent
            step.expected += len(members)
            body = json.dumps({"step": step.tag, "seq": seq, "sentNs": sent})
            frame = {
                "action": "sendMessage",
                "roomId": self.room_ids[room],
                "message": body,
                "clientMessageId": f"{step.tag}-{seq}",
            }
            await sender.send(json.dumps(frame))
        sent_for = time.perf_counter() - started
        deadline = time.monotonic() + drain
        while len(step.seen) < step.expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        window = max(sent_for, (step.last_receive_ns / 1e9) - started) if step.seen else sent_for
        lat, ack = step.latencies_ms, step.ack_ms
        received = len(step.seen)
        self._step = None
        return StepFigures(
            rate=rate,
            seconds=seconds,
            messages=count,
            expected=step.expected,
            received=received,
            missing=step.expected - received,
            duplicates=step.duplicates,
            errors=len(self.errors) - errors_before,
            latency_ms={p: percentile(lat, q) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))},
            ack_ms={"p50": percentile(ack, 50), "p95": percentile(ack, 95)},
            messages_per_s=count / sent_for if sent_for else 0.0,
            deliveries_per_s=received / window if window else 0.0,
        )

    async def close(self) -> None:
        self._closing = True
        await asyncio.gather(
            *(ws.close() for room in self.sockets for ws in room), return_exceptions=True
        )
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
