"""Area latency: how fast the stage answers, judged against seed 001's figures (CONTRACT.md §5).

SHOULD checks: a slow stage is reported and counted apart, and fails the run only with
``--strict``. Each check measures a small fixed sample of its own, sequentially, after one
unmeasured round (a function's cold start is the stage's first-call cost, not its latency), and
reports the figures whether it passes or not; the limits are
``--max-{rest,connect,send,broadcast}-p95-ms``.
"""

from __future__ import annotations

import asyncio
import time

from conformance.client import PASSWORD, Peer, unique_room
from conformance.plugin import SHOULD, check
from conformance.report_text import percentile

SAMPLES = 20


def judge(what: str, samples: list[float], limit: float, record_measurement) -> None:
    """Report the sample's figures, then require its p95 within ``limit`` (ms)."""
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    summary = (
        f"{what}: p95 {p95:.1f} ms (limit {limit:.0f} ms), p50 {p50:.1f} ms, "
        f"max {max(samples):.1f} ms over {len(samples)}"
    )
    record_measurement(
        summary,
        {
            "p50_ms": round(p50, 2),
            "p95_ms": round(p95, 2),
            "max_ms": round(max(samples), 2),
            "samples": len(samples),
            "limit_ms": limit,
        },
    )
    assert p95 <= limit, summary


def ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000


@check("LAT-001", SHOULD)
async def check_rest_answers_within_the_limit(rest, user, latency_limits, record_measurement):
    """§5: the p95 of 20 logins is within --max-rest-p95-ms (200 ms)."""
    samples = []
    for _ in range(SAMPLES + 1):
        started = time.monotonic()
        answer = await rest.post("/login", {"email": user.email, "password": PASSWORD})
        samples.append(ms_since(started))
        assert answer.status == 200, f"login: expected 200, got {answer}"
    judge("login", samples[1:], latency_limits["rest"], record_measurement)


@check("LAT-002", SHOULD)
async def check_handshakes_complete_within_the_limit(
    target, user, conformance_timeout, latency_limits, record_measurement
):
    """§5: the p95 of 20 WebSocket handshakes is within --max-connect-p95-ms (300 ms)."""
    samples = []
    for _ in range(SAMPLES + 1):
        started = time.monotonic()
        peer = await Peer.connect(target.ws_url, user.token, conformance_timeout)
        samples.append(ms_since(started))
        await peer.close()
    judge("handshake", samples[1:], latency_limits["connect"], record_measurement)


@check("LAT-003", SHOULD)
async def check_sends_are_acknowledged_within_the_limit(
    peer: Peer, latency_limits, record_measurement
):
    """§5: the p95 of 20 sendMessage acks is within --max-send-p95-ms (100 ms)."""
    room = unique_room()
    await peer.join(room)
    samples = []
    for i in range(SAMPLES + 1):
        started = time.monotonic()
        ack = await peer.request({"action": "sendMessage", "roomId": room, "message": f"t{i}"})
        samples.append(ms_since(started))
        assert ack.get("type") == "ack", f"sendMessage: expected an ack, got {ack}"
    judge("sendMessage ack", samples[1:], latency_limits["send"], record_measurement)


@check("LAT-004", SHOULD)
async def check_broadcasts_arrive_within_the_limit(
    connect, rest, conformance_timeout, latency_limits, record_measurement, record_latencies
):
    """§5: the p95 of 100 deliveries (20 messages, 5 members) is within --max-broadcast-p95-ms
    (200 ms), from the send to each member's receipt."""
    room = unique_room()
    users = await asyncio.gather(*(rest.new_user(f"lat{i}") for i in range(5)))
    members = [await connect(u) for u in users]
    for member in members:
        await member.join(room)
    warm_up = await members[0].request(
        {"action": "sendMessage", "roomId": room, "message": "warm-up"}
    )
    assert warm_up.get("type") == "ack", f"sendMessage: expected an ack, got {warm_up}"
    first = {warm_up["messageId"]: time.monotonic()}
    timeout = conformance_timeout
    await asyncio.gather(*(arrivals(m, room, first, timeout) for m in members))
    sent_at: dict[str, float] = {}
    for i in range(SAMPLES):
        started = time.monotonic()
        ack = await members[0].request(
            {"action": "sendMessage", "roomId": room, "message": f"b{i}"}
        )
        assert ack.get("type") == "ack", f"sendMessage: expected an ack, got {ack}"
        sent_at[ack["messageId"]] = started
    # Latency of what arrives within the timeout; what does not is BCAST-006…009's to judge.
    samples = await asyncio.gather(*(arrivals(m, room, sent_at, timeout) for m in members))
    flat = [latency for member in samples for latency in member]
    assert flat, f"no broadcast arrived within {timeout} s"
    record_latencies(flat)
    what = "broadcast, send to receipt"
    if len(flat) < SAMPLES * len(members):
        what += f" ({len(flat)} of {SAMPLES * len(members)} deliveries arrived)"
    judge(what, flat, latency_limits["broadcast"], record_measurement)


async def arrivals(
    member: Peer, room: str, sent_at: dict[str, float], timeout: float
) -> list[float]:
    """Milliseconds from each send to ``member``'s first receipt, for what arrives in time."""
    loop = asyncio.get_running_loop()
    deadline, seen = loop.time() + timeout, {}
    while len(seen) < len(sent_at) and (left := deadline - loop.time()) > 0:
        try:
            received, frame = await asyncio.wait_for(member.broadcasts.get(), left)
        except TimeoutError:
            break
        message_id = frame.get("messageId")
        if frame.get("roomId") == room and message_id in sent_at and message_id not in seen:
            seen[message_id] = (received - sent_at[message_id]) * 1000
    return list(seen.values())
