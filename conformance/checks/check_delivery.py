"""Area broadcast, completeness: several members, several senders, a run of messages each —
every member receives every message of its rooms exactly once (CONTRACT.md §3, Delivery).

The contract promises no arrival order between broadcasts, not even between two messages of one
sender (a large room is fanned out in parallel shards), so none is asserted here: receivers
order by ``timestamp``, then ``messageId``. Counts are small and fixed; every wait ends at the
suite's timeout after the last send.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from conformance.client import Peer, is_ack, unique_room
from conformance.delivery import DeliveryBook, Sent
from conformance.plugin import MUST, check


async def members(connect, rest, names: Iterable[str]) -> dict[str, Peer]:
    """One connection per name; names sharing a user (``"a"``, ``"a:2"``) share its login."""
    names = list(names)
    users = list(dict.fromkeys(name.split(":")[0] for name in names))
    logins = dict(zip(users, await asyncio.gather(*(rest.new_user(u) for u in users)), strict=True))
    return {name: await connect(logins[name.split(":")[0]]) for name in names}


async def send_runs(
    book: DeliveryBook, peers: dict[str, Peer], runs: dict[str, list[str]], prefix: str = ""
) -> list[Sent]:
    """Each sender sends its rooms' messages one after another (ack by ack); senders at once."""

    async def run(sender: str, rooms: list[str]) -> list[Sent]:
        sent = []
        for room in rooms:
            text = f"{prefix}{sender}-{len(sent) + 1}"
            started = time.monotonic()
            ack = await peers[sender].request(
                {"action": "sendMessage", "roomId": room, "message": text}
            )
            assert ack.get("type") == "ack" and isinstance(ack.get("messageId"), str), (
                f"sendMessage {text} to {room}: expected an ack, got {ack}"
            )
            sent.append(book.send(ack["messageId"], room, sender, text, started))
        return sent

    results = await asyncio.gather(*(run(sender, rooms) for sender, rooms in runs.items()))
    return [sent for result in results for sent in result]


async def collect(book: DeliveryBook, peers: dict[str, Peer], rooms: set[str], timeout: float):
    """Take broadcasts until each member has what it is owed, or ``timeout`` seconds pass; then
    a round trip per member, after which what else arrives within a quiet window (doubles,
    leaks) is taken too."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    async def take(member: str, peer: Peer) -> None:
        while not book.complete(member) and (left := deadline - loop.time()) > 0:
            try:
                received, frame = await asyncio.wait_for(peer.broadcasts.get(), left)
            except TimeoutError:
                break
            if frame.get("roomId") in rooms:
                book.receive(member, frame, received)
        await peer.request({"action": "getMessages", "roomId": unique_room(), "limit": 1})
        for frame in await peer.within_quiet_window(lambda f: f.get("roomId") in rooms):
            book.receive(member, frame)

    await asyncio.gather(*(take(member, peer) for member, peer in peers.items()))


def assert_complete(book: DeliveryBook, timeout: float) -> None:
    problems = book.problems()
    assert not problems, (
        f"within {timeout} s of the last send, not every member received every message once:\n"
        + "\n".join(problems)
    )


@check("BCAST-007", MUST)
async def check_every_member_receives_every_senders_run_once(
    connect, rest, conformance_timeout, record_latencies
):
    """§3 delivery: 4 members, 3 of them sending 6 messages each at once, all get all 18 once."""
    room = unique_room()
    peers = await members(connect, rest, ["ann", "ann:2", "bob", "cy"])
    for peer in peers.values():
        await peer.join(room)
    book = DeliveryBook()
    sent = await send_runs(book, peers, {s: [room] * 6 for s in ("ann", "bob", "cy")})
    for member in peers:
        book.owe(member, sent)
    await collect(book, peers, {room}, conformance_timeout)
    record_latencies(book.latencies_ms())
    assert_complete(book, conformance_timeout)


@check("BCAST-008", MUST)
async def check_a_member_of_two_rooms_receives_each_rooms_stream(
    connect, rest, conformance_timeout
):
    """§3 delivery: members of two rooms get both rooms' messages once; others only their room's."""
    a, b = unique_room(), unique_room()
    peers = await members(connect, rest, ["both", "both2", "only_a", "only_b"])
    for name, rooms in {"both": (a, b), "both2": (a, b), "only_a": (a,), "only_b": (b,)}.items():
        for room in rooms:
            await peers[name].join(room)
    book = DeliveryBook()
    sent = await send_runs(book, peers, {"both": [a, b] * 4, "only_a": [a] * 4, "only_b": [b] * 4})
    in_a = [s for s in sent if s.room == a]
    in_b = [s for s in sent if s.room == b]
    for member in ("both", "both2"):
        book.owe(member, sent)
    book.owe("only_a", in_a)
    book.forbid("only_a", in_b)
    book.owe("only_b", in_b)
    book.forbid("only_b", in_a)
    await collect(book, peers, {a, b}, conformance_timeout)
    assert_complete(book, conformance_timeout)


@check("BCAST-009", MUST)
async def check_a_member_that_leaves_and_rejoins_misses_nothing_of_its_stays(
    connect, rest, conformance_timeout
):
    """§3 delivery: a member that leaves and rejoins gets every message of both stays once and
    none sent while it was out."""
    room = unique_room()
    peers = await members(connect, rest, ["leaver", "sender1", "sender2"])
    for peer in peers.values():
        await peer.join(room)
    senders = {name: peers[name] for name in ("sender1", "sender2")}
    book = DeliveryBook()

    first = await send_runs(book, peers, {s: [room] * 3 for s in senders})
    for member in peers:
        book.owe(member, first)
    await collect(book, peers, {room}, conformance_timeout)

    left = await peers["leaver"].request({"action": "leaveRoom", "roomId": room})
    assert is_ack(left, "leaveRoom", room), f"leaveRoom: expected its ack, got {left}"
    away = await send_runs(book, peers, {s: [room] * 2 for s in senders}, "away-")
    for member in senders:
        book.owe(member, away)
    book.forbid("leaver", away)
    await collect(book, senders, {room}, conformance_timeout)
    await collect(book, {"leaver": peers["leaver"]}, {room}, conformance_timeout)
    # Sent while it was out and already delivered to the others: from here on, a late copy
    # would arrive after the rejoin, which the contract allows.
    book.ignore("leaver", away)

    await peers["leaver"].join(room)
    back = await send_runs(book, peers, {s: [room] * 3 for s in senders}, "back-")
    for member in peers:
        book.owe(member, back)
    await collect(book, peers, {room}, conformance_timeout)
    assert_complete(book, conformance_timeout)
