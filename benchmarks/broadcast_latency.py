"""Send-to-receive latency of room broadcasts through a chatstack stage.

N WebSocket connections join one fresh room; a few of them send M messages at a bounded rate, each
carrying its send time; every connection records when each broadcast arrives. Sender and
receivers live in this one process, so both ends read the same clock (``time.perf_counter_ns``).

    python -m benchmarks.broadcast_latency --clients 100 --messages 50 --senders 5 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from benchmarks.room_load import sign_up
from benchmarks.stage import running_stage

__all__ = ["main", "percentile", "run_benchmark"]

ATTEMPTS = 4  # a handshake answered 5xx, or a joinRoom answered with an error, is retried
SETUP_SECONDS_PER_CLIENT = 1.0  # the bound on signup + connect + join: 60 s + this × clients


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank ``p``-th percentile, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Run:
    """What one run has sent and received so far."""

    room: str
    run_id: str
    join_replies: dict[int, asyncio.Future[bool]] = field(default_factory=dict)
    setup_retries: int = 0
    ack_sent_ns: dict[str, int] = field(default_factory=dict)
    seen: set[tuple[int, int]] = field(default_factory=set)
    latencies_ms: list[float] = field(default_factory=list)
    ack_ms: list[float] = field(default_factory=list)
    warmup_received: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    closed_early: int = 0
    closing: bool = False
    last_receive_ns: int = 0
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    def on_frame(self, index: int, raw: str | bytes, now: int) -> None:
        try:
            self._on_frame(index, json.loads(raw), now)
        except (ValueError, KeyError, TypeError, AttributeError):
            self.errors.append({"unreadable": str(raw)[:200]})

    def _on_frame(self, index: int, frame: dict[str, Any], now: int) -> None:
        kind = frame.get("type")
        if kind == "message" and frame.get("roomId") == self.room:
            self._on_message(index, frame, now)
        elif frame.get("action") == "joinRoom" and kind in ("ack", "error"):
            reply = self.join_replies.get(index)
            if reply is not None and not reply.done():
                reply.set_result(kind == "ack")
        elif kind == "ack" and frame.get("action") == "sendMessage":
            sent = self.ack_sent_ns.pop(frame.get("clientMessageId") or "", None)
            if sent is not None:
                self.ack_ms.append((now - sent) / 1e6)
        elif kind == "error" or "type" not in frame:  # also API Gateway's internal error
            self.errors.append(frame)

    def _on_message(self, index: int, frame: dict[str, Any], now: int) -> None:
        body = json.loads(frame["message"])
        if body.get("run") != self.run_id:
            return
        key = (index, body["seq"])
        if key in self.seen:
            self.duplicates += 1
            return
        self.seen.add(key)
        if body["seq"] < 0:
            self.warmup_received += 1
            return
        self.latencies_ms.append((now - body["sentNs"]) / 1e6)
        self.last_receive_ns = now


async def _read(run: Run, index: int, ws: ClientConnection) -> None:
    try:
        async for raw in ws:
            run.on_frame(index, raw, time.perf_counter_ns())
    except ConnectionClosed:
        pass
    if not run.closing:
        run.closed_early += 1


async def _open(run: Run, url: str) -> ClientConnection:
    for attempt in range(ATTEMPTS):
        try:
            return await connect(url, compression=None, proxy=None)
        except InvalidStatus as exc:
            if exc.response.status_code < 500 or attempt == ATTEMPTS - 1:
                raise
            run.setup_retries += 1
            await asyncio.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")


async def _join(
    run: Run, ws_url: str, token: str, index: int, gate: asyncio.Semaphore
) -> ClientConnection:
    """Open connection ``index`` and join the run's room; retried on server errors."""
    async with gate:
        ws = await _open(run, f"{ws_url}?token={token}")
        run.readers.append(asyncio.create_task(_read(run, index, ws)))
        for attempt in range(ATTEMPTS):
            reply = run.join_replies[index] = asyncio.get_running_loop().create_future()
            await ws.send(json.dumps({"action": "joinRoom", "roomId": run.room}))
            if await asyncio.wait_for(reply, timeout=30):
                return ws
            run.setup_retries += 1
            await asyncio.sleep(0.1 * 2**attempt)
        raise RuntimeError(f"connection {index} could not join {run.room}")


async def _send(run: Run, ws: ClientConnection, seq: int) -> None:
    client_message_id = f"{run.run_id}-{seq}"
    sent = time.perf_counter_ns()
    body = json.dumps({"run": run.run_id, "seq": seq, "sentNs": sent})
    if seq >= 0:  # warm-up acks are not measured
        run.ack_sent_ns[client_message_id] = sent
    frame = {
        "action": "sendMessage",
        "roomId": run.room,
        "message": body,
        "clientMessageId": client_message_id,
    }
    await ws.send(json.dumps(frame))


async def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def run_benchmark(
    urls: dict[str, str],
    *,
    clients: int,
    messages: int,
    senders: int,
    rate: float,
    users: int,
    warmup: int,
    timeout: float,
    connect_concurrency: int,
    on_measuring: Callable[[], None] = lambda: None,
    on_received: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Run one measurement against the stage at ``urls``; the figures as a dict.

    ``on_measuring`` is called just before the first measured send, ``on_received`` once every
    delivery arrived (or the wait for them timed out).
    """
    run_id = uuid.uuid4().hex[:12]
    run = Run(room=f"bench-{run_id}", run_id=run_id)
    started = time.perf_counter()
    users = max(1, min(users, clients))
    tokens = await sign_up(urls["rest_url"], users, concurrency=users, name="bench")
    gate = asyncio.Semaphore(connect_concurrency)
    joins = (_join(run, urls["ws_url"], tokens[i % users], i, gate) for i in range(clients))
    setup_timeout = 60 + SETUP_SECONDS_PER_CLIENT * clients
    sockets = await asyncio.wait_for(asyncio.gather(*joins), timeout=setup_timeout)
    setup_s = time.perf_counter() - started
    senders = max(1, min(senders, clients))
    sending = [sockets[i * clients // senders] for i in range(senders)]

    for seq in range(-warmup, 0):  # warm the handlers' clients up; not measured
        await _send(run, sending[seq % senders], seq)
    warmed = await _wait_until(lambda: run.warmup_received >= warmup * clients, timeout)

    on_measuring()
    send_started = time.perf_counter()
    for seq in range(messages):
        await asyncio.sleep(max(0.0, send_started + seq / rate - time.perf_counter()))
        await _send(run, sending[seq % senders], seq)
    send_ended_ns = time.perf_counter_ns()
    expected = messages * clients
    await _wait_until(lambda: len(run.latencies_ms) >= expected, timeout)
    on_received()

    run.closing = True
    await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in sockets)), timeout=30)
    received = len(run.latencies_ms)
    window_s = (max(run.last_receive_ns, send_ended_ns) / 1e9) - send_started
    lat, ack = run.latencies_ms, run.ack_ms
    return {
        "clients": clients,
        "users": users,
        "senders": senders,
        "messages": messages,
        "rate_per_s": rate,
        "deliveries_expected": expected,
        "deliveries_received": received,
        "delivery_ratio": round(received / expected, 4) if expected else None,
        "missing": expected - received,
        "duplicates": run.duplicates,
        "error_frames": len(run.errors),
        "closed_early": run.closed_early,
        "latency_ms": {
            "p50": percentile(lat, 50),
            "p95": percentile(lat, 95),
            "p99": percentile(lat, 99),
            "max": max(lat, default=None),
        },
        "ack_ms": {"p50": percentile(ack, 50), "p99": percentile(ack, 99)},
        "deliveries_per_s": round(received / window_s, 1) if window_s > 0 else None,
        "setup_s": round(setup_s, 2),
        "setup_retries": run.setup_retries,
        "warmup_complete": warmed,
        "drain_after_last_send_s": round(max(0, run.last_receive_ns - send_ended_ns) / 1e9, 3),
    }


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def markdown(figures: dict[str, Any]) -> str:
    """The figures as a two-column Markdown table."""
    f, lat, ack = figures, figures["latency_ms"], figures["ack_ms"]
    rows = [
        ("clients / users / senders", f"{f['clients']} / {f['users']} / {f['senders']}"),
        ("messages @ rate", f"{f['messages']} @ {f['rate_per_s']:g}/s"),
        ("received / expected", f"{f['deliveries_received']} / {f['deliveries_expected']}"),
        ("delivery ratio", f"{f['delivery_ratio']:.2%}"),
        ("missing / duplicates", f"{f['missing']} / {f['duplicates']}"),
        ("error frames / closed early", f"{f['error_frames']} / {f['closed_early']}"),
        ("latency p50 / p95 / p99 / max (ms)", " / ".join(_ms(v) for v in lat.values())),
        ("sender ack p50 / p99 (ms)", f"{_ms(ack['p50'])} / {_ms(ack['p99'])}"),
        ("deliveries/s (first send → last receive)", str(f["deliveries_per_s"])),
        ("drain after last send (s)", str(f["drain_after_last_send_s"])),
        ("setup: signup, login, connect, join (s)", str(f["setup_s"])),
        ("setup retries (5xx handshake, joinRoom error)", str(f["setup_retries"])),
    ]
    lines = ["| metric | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100, help="WebSocket connections")
    parser.add_argument("--messages", type=int, default=50, help="measured messages")
    parser.add_argument("--senders", type=int, default=5, help="connections that send")
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second in all")
    parser.add_argument("--users", type=int, default=10, help="distinct users (tokens shared)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured messages first")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to await deliveries")
    parser.add_argument(
        "--connect-concurrency", type=int, default=1, help="handshakes + joins in flight"
    )
    parser.add_argument("--stage-file", type=Path, help="use this running stage")
    parser.add_argument("--stage-log", type=Path, help="write the started stage's log here")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    with running_stage(args.stage_file, args.stage_log) as urls:
        figures = asyncio.run(
            run_benchmark(
                urls,
                clients=args.clients,
                messages=args.messages,
                senders=args.senders,
                rate=args.rate,
                users=args.users,
                warmup=args.warmup,
                timeout=args.timeout,
                connect_concurrency=args.connect_concurrency,
            )
        )
    print(markdown(figures))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if figures["missing"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
