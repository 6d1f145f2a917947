"""Isolation: does a storm elsewhere hold up a quiet room? A quiet room's send→ack and
send→broadcast latency, measured while nothing else happens, during a login storm, and during
another room's flood — on one fresh local stage.

    python -m benchmarks.isolation                  # 20 s per phase
    python -m benchmarks.isolation --seconds 30 --logins 48 --flood-members 50
    python -m benchmarks.isolation --lanes 1        # the broadcaster without lanes

The quiet room: ``--members`` members, one of them sending one message a second. The login
storm: ``--logins`` clients logging in back to back (bcrypt cost 12, as deployed). The flood:
``--flood-senders`` members of a ``--flood-members`` room sending as fast as their acks come.

The broadcaster's stream mapping runs ``parallelization_factor`` lanes (stack.json; ``--lanes``
runs the stage on a copy with another factor). Rooms whose ids hash to the same lane share it,
as on AWS; the quiet room is given an id in another lane than the flood's (``--same-lane``: the
same one), so the table shows what lanes buy and what they cannot.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter

import aiohttp

from benchmarks.lanes import broadcaster_lanes, room_lane, stack_args
from conformance.client import PASSWORD, Peer, Rest, unique_room
from conformance.target import LocalStage


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _room_in(lanes: int, wanted: int | None = None, avoid: int | None = None) -> str:
    """A room id whose messages fall in lane ``wanted`` (or any lane but ``avoid``)."""
    while True:
        room = unique_room()
        lane = room_lane(room, lanes)
        if (wanted is None or lane == wanted) and (lanes == 1 or avoid is None or lane != avoid):
            return room


async def _room(stage: LocalStage, rest: Rest, members: int, room: str) -> tuple[str, list[Peer]]:
    peers = [
        await Peer.connect(stage.ws_url, (await rest.new_user()).token, 30) for _ in range(members)
    ]
    for peer in peers:
        await peer.join(room)
    return room, peers


async def _quiet_room(room: str, peers: list[Peer], stop: asyncio.Event, out) -> None:
    sender = peers[0]
    while not stop.is_set():
        sent = time.monotonic()
        answer = await sender.request({"action": "sendMessage", "roomId": room, "message": "q"})
        acked = time.monotonic()
        out["ack"].append((acked - sent) * 1000)
        for peer in peers:
            received, _ = await peer.timed_message(
                lambda f, m=answer["messageId"]: f["messageId"] == m
            )
            out["broadcast"].append((received - sent) * 1000)
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - sent)))


async def _login_storm(rest: Rest, clients: int, stop: asyncio.Event, statuses: Counter) -> None:
    user = await rest.new_user("storm")

    async def one() -> None:
        while not stop.is_set():
            answer = await rest.post("/login", {"email": user.email, "password": PASSWORD})
            statuses[answer.status] += 1

    await asyncio.gather(*(one() for _ in range(clients)))


async def _flood(room: str, peers: list[Peer], senders: int, stop, sent: Counter) -> None:
    async def talk(peer: Peer) -> None:
        while not stop.is_set():
            await peer.request({"action": "sendMessage", "roomId": room, "message": "f" * 1000})
            sent["messages"] += 1
            peer.drain(lambda f: True)

    await asyncio.gather(*(talk(p) for p in peers[:senders]))
    for peer in peers:
        peer.drain(lambda f: True)


async def run(args: argparse.Namespace) -> None:
    lanes = args.lanes or broadcaster_lanes()
    flood_room = _room_in(lanes)
    flood_lane = room_lane(flood_room, lanes)
    quiet_room = _room_in(
        lanes,
        wanted=flood_lane if args.same_lane else None,
        avoid=None if args.same_lane else flood_lane,
    )
    print(
        f"broadcaster lanes: {lanes}; quiet room in lane {room_lane(quiet_room, lanes)}, "
        f"flooded room in lane {flood_lane}\n"
    )
    stage = LocalStage(*stack_args(args.lanes), bcrypt_rounds=12)
    try:
        async with aiohttp.ClientSession() as http:
            rest = Rest(http, stage.rest_url, 60)
            quiet = await _room(stage, rest, args.members, quiet_room)
            flood = await _room(stage, rest, args.flood_members, flood_room)
            print("| phase | quiet ack p50 / p95 / max | quiet broadcast p50 / p95 / max | load |")
            print("|---|---:|---:|---|")
            for phase in ("baseline", "login storm", "room flood"):
                stop = asyncio.Event()
                out: dict[str, list[float]] = {"ack": [], "broadcast": []}
                counts: Counter = Counter()
                tasks = [asyncio.create_task(_quiet_room(*quiet, stop, out))]
                if phase == "login storm":
                    tasks.append(asyncio.create_task(_login_storm(rest, args.logins, stop, counts)))
                if phase == "room flood":
                    flooding = _flood(*flood, args.flood_senders, stop, counts)
                    tasks.append(asyncio.create_task(flooding))
                await asyncio.sleep(args.seconds)
                stop.set()
                await asyncio.gather(*tasks)
                ack, bc = out["ack"], out["broadcast"]
                load = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=str)) or "—"
                print(
                    f"| {phase} | {_pct(ack, 0.5)} / {_pct(ack, 0.95)} / {_pct(ack, 1.0)} ms "
                    f"| {_pct(bc, 0.5)} / {_pct(bc, 0.95)} / {_pct(bc, 1.0)} ms | {load} |",
                    flush=True,
                )
    finally:
        stage.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.isolation", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--logins", type=int, default=48)
    parser.add_argument("--flood-members", type=int, default=50)
    parser.add_argument("--flood-senders", type=int, default=4)
    parser.add_argument("--lanes", type=int, help="the broadcaster's lanes (default: stack.json)")
    parser.add_argument(
        "--same-lane", action="store_true", help="put the quiet room in the flood's lane"
    )
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
