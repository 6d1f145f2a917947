"""Area broadcast: every member of the room, the sender included, and nobody else, once
(CONTRACT.md §3, Sending and broadcast)."""

from __future__ import annotations

import asyncio
import time

from conformance.client import Peer, unique_room
from conformance.plugin import MUST, check


async def peers(connect, rest, count: int, room: str | None = None) -> list[Peer]:
    users = await asyncio.gather(*(rest.new_user(f"user{i}") for i in range(count)))
    opened = [await connect(u) for u in users]
    if room is not None:
        for peer in opened:
            await peer.join(room)
    return opened


async def nothing_more_from(peer: Peer, room: str) -> None:
    """After the other members got a message, a round trip and a quiet window prove ``peer``
    got none of ``room``."""
    await peer.request({"action": "getMessages", "roomId": unique_room(), "limit": 1})
    leaked = await peer.within_quiet_window(lambda f: f.get("roomId") == room)
    assert not leaked, f"a connection outside the room received: {leaked}"


@check("BCAST-001", MUST)
async def check_members_and_sender_receive_the_message(connect, rest):
    """§3: every member of the room, the sender included, receives the message frame."""
    room = unique_room()
    sender, member = await peers(connect, rest, 2, room)
    ack = await sender.request(
        {"action": "sendMessage", "roomId": room, "message": "hello", "clientMessageId": "b-1"}
    )
    assert ack.get("type") == "ack", f"expected an ack, got {ack}"
    expected = {
        "type": "message",
        "messageId": ack["messageId"],
        "roomId": room,
        "userId": None,
        "username": "user0",
        "message": "hello",
        "timestamp": ack["timestamp"],
        "clientMessageId": "b-1",
    }
    for peer in (sender, member):
        frame = await peer.message(lambda f: f.get("roomId") == room)
        expected["userId"] = frame.get("userId")
        shown = {k: frame.get(k) for k in expected}
        assert shown == expected, f"expected {expected}, got {frame}"
        assert isinstance(frame["userId"], str) and frame["userId"], str(frame)


@check("BCAST-002", MUST)
async def check_connections_outside_the_room_receive_nothing(connect, rest):
    """§3: a connection that has not joined the room receives none of its messages."""
    room = unique_room()
    sender, member = await peers(connect, rest, 2, room)
    (outsider,) = await peers(connect, rest, 1)
    await sender.request({"action": "sendMessage", "roomId": room, "message": "members only"})
    await member.message(lambda f: f.get("roomId") == room)
    await sender.message(lambda f: f.get("roomId") == room)
    await nothing_more_from(outsider, room)


@check("BCAST-003", MUST)
async def check_a_connection_that_left_receives_no_more(connect, rest):
    """§3: after leaveRoom a connection no longer receives the room's messages."""
    room = unique_room()
    sender, leaver = await peers(connect, rest, 2, room)
    await leaver.request({"action": "leaveRoom", "roomId": room})
    await sender.request({"action": "sendMessage", "roomId": room, "message": "bye"})
    await sender.message(lambda f: f.get("roomId") == room)
    await nothing_more_from(leaver, room)


@check("BCAST-004", MUST)
async def check_a_repeated_client_message_id_is_broadcast_once(connect, rest):
    """§3: a repeated clientMessageId is acked as a duplicate of the original, broadcast once."""
    room = unique_room()
    sender, member = await peers(connect, rest, 2, room)
    frame = {"action": "sendMessage", "roomId": room, "message": "once", "clientMessageId": "m1"}
    first, second = await sender.request(frame), await sender.request(frame)
    assert first.get("duplicate") is False, f"first send: expected duplicate false, got {first}"
    assert second.get("duplicate") is True, f"repeat: expected duplicate true, got {second}"
    assert second.get("messageId") == first.get("messageId"), f"{first} vs {second}"
    assert second.get("timestamp") == first.get("timestamp"), f"{first} vs {second}"
    got = await member.message(lambda f: f.get("roomId") == room)
    assert got["messageId"] == first["messageId"], str(got)
    await sender.request({"action": "sendMessage", "roomId": room, "message": "after"})
    following = await member.message(lambda f: f.get("roomId") == room)
    assert following["message"] == "after", f"the repeat was broadcast again: {following}"


@check("BCAST-005", MUST)
async def check_client_message_ids_are_scoped_to_their_user(connect, rest):
    """§3: another user's equal clientMessageId is a new message, not a duplicate."""
    room = unique_room()
    a, b = await peers(connect, rest, 2, room)
    frame = {"action": "sendMessage", "roomId": room, "message": "x", "clientMessageId": "same"}
    first, second = await a.request(frame), await b.request(frame)
    assert first.get("duplicate") is False and second.get("duplicate") is False, (
        f"expected two new messages, got {first} and {second}"
    )
    assert first["messageId"] != second["messageId"], f"{first} vs {second}"


@check("BCAST-010", MUST)
async def check_a_repeat_in_another_room_is_a_duplicate(connect, rest):
    """§3: a user's clientMessageId repeated in another room is acked as the original (its
    messageId, roomId and timestamp); nothing is broadcast or stored in the other room."""
    a, b = unique_room(), unique_room()
    sender, member = await peers(connect, rest, 2, a)
    for peer in (sender, member):
        await peer.join(b)
    first = await sender.request(
        {"action": "sendMessage", "roomId": a, "message": "one", "clientMessageId": "across"}
    )
    repeat = await sender.request(
        {"action": "sendMessage", "roomId": b, "message": "two", "clientMessageId": "across"}
    )
    assert first.get("duplicate") is False, f"first send: expected duplicate false, got {first}"
    original = {k: first.get(k) for k in ("messageId", "roomId", "timestamp")}
    assert repeat.get("duplicate") is True, f"repeat in {b}: expected a duplicate, got {repeat}"
    assert {k: repeat.get(k) for k in original} == original, (
        f"the repeat's ack must name the original {original}, got {repeat}"
    )
    got = await member.message(lambda f: f.get("roomId") == a)
    assert got["messageId"] == first["messageId"], str(got)
    await nothing_more_from(member, b)
    history = await member.request({"action": "getMessages", "roomId": b})
    assert history.get("messages") == [], f"the repeat was stored in {b}: {history}"


@check("BCAST-011", MUST)
async def check_the_duplicate_window_outlives_the_connection(connect, rest):
    """§3: a clientMessageId repeated from a new connection of the user, after the one that
    sent it closed, is still a duplicate."""
    room = unique_room()
    user = await rest.new_user("again")
    first_connection = await connect(user)
    await first_connection.join(room)
    frame = {"action": "sendMessage", "roomId": room, "message": "m", "clientMessageId": "keep"}
    first = await first_connection.request(frame)
    assert first.get("duplicate") is False, f"first send: expected duplicate false, got {first}"
    await first_connection.close()
    second_connection = await connect(user)
    await second_connection.join(room)
    repeat = await second_connection.request(frame)
    assert repeat.get("duplicate") is True, f"expected a duplicate, got {repeat}"
    assert repeat.get("messageId") == first["messageId"], f"{first} vs {repeat}"


@check("BCAST-006", MUST)
async def check_every_member_receives_every_message_exactly_once(connect, rest, record_latencies):
    """§3: 20 members of a room each receive each of 5 messages exactly once."""
    room = unique_room()
    users = await asyncio.gather(*(rest.new_user(f"m{i}") for i in range(5)))
    members = [await connect(users[i % 5]) for i in range(20)]
    for peer in members:
        await peer.join(room)
    sent_at: dict[str, float] = {}
    for i in range(5):
        started = time.monotonic()
        ack = await members[i].request(
            {"action": "sendMessage", "roomId": room, "message": f"n{i}"}
        )
        assert ack.get("type") == "ack", f"expected an ack, got {ack}"
        sent_at[ack["messageId"]] = started
    latencies = []
    for peer in members:
        got = []
        for _ in range(5):
            received, frame = await peer.timed_message(lambda f: f.get("roomId") == room)
            got.append(frame["messageId"])
            latencies.append((received - sent_at.get(frame["messageId"], received)) * 1000)
        assert sorted(got) == sorted(sent_at), f"expected each of {sorted(sent_at)} once, got {got}"
    await asyncio.gather(*(nothing_more_from(peer, room) for peer in members))
    record_latencies(latencies)
