"""Areas receipts (in chats and rooms), typing and presence (profile ``receipts``,
RECEIPTS.md §9-§11)."""

from __future__ import annotations

import asyncio
import time

from conformance.chat_steps import (
    direct_chat,
    eventually,
    expect_rest_error,
    group_chat,
    send_to_chat,
    unknown_chat_id,
    unknown_user_id,
)
from conformance.client import Peer, Rest, User, unique_room
from conformance.errors import PreconditionFailed
from conformance.plugin import MUST, check

# A typing signal's indicator may show at most this long without renewal (RECEIPTS.md §10).
MAX_TYPING_EXPIRY_MS = 10_000
# Closing one of two connections: how long the check watches for a wrong "offline".
QUIET_SECONDS = 2.0


async def users(rest: Rest, *names: str) -> list[User]:
    return list(await asyncio.gather(*(rest.new_user(name) for name in names)))


def receipt_of(chat_id: str, user: User):
    return lambda f: (
        f.get("type") == "receipt"
        and f.get("chatId") == chat_id
        and (f.get("userId") == user.user_id)
    )


def typing_of(chat_id: str, user: User):
    return lambda f: (
        f.get("type") == "typing"
        and f.get("chatId") == chat_id
        and (f.get("userId") == user.user_id)
    )


def presence_of(user: User, online: bool | None = None):
    return lambda f: (
        f.get("type") == "presence"
        and f.get("userId") == user.user_id
        and (online is None or f.get("online") is online)
    )


async def round_trip(peer: Peer) -> None:
    """A request and its reply: what the stage sent this connection before is received now."""
    await peer.request({"action": "getMessages", "roomId": "conf-none", "limit": 1})


async def receipt(peer: Peer, chat_id: str, kind: str, seq) -> dict:
    return await peer.request({"action": "receipt", "chatId": chat_id, "kind": kind, "seq": seq})


def expect_ack(answer: dict, action: str, chat_id: str) -> None:
    assert answer.get("type") == "ack" and answer.get("action") == action, (
        f"expected the {action} ack, got {answer}"
    )
    assert answer.get("chatId") == chat_id, f"ack of another chat: {answer}"


def expect_error(answer: dict, code: str, field: str | None = None) -> None:
    assert answer.get("type") == "error" and answer.get("code") == code, (
        f"expected {code}, got {answer}"
    )
    if field is not None:
        assert answer.get("field") == field, f"expected field {field!r}, got {answer}"


async def markers(rest: Rest, who: User, chat_id: str, **params) -> dict:
    answer = await rest.as_user(who, "GET", f"/chats/{chat_id}/receipts", params=params or None)
    assert answer.status == 200, f"GET /chats/{{chatId}}/receipts: expected 200, got {answer}"
    return answer.body


def marker(body: dict, who: User) -> dict:
    found = [r for r in body.get("receipts", []) if r.get("userId") == who.user_id]
    assert len(found) == 1, f"expected one marker of {who.username}: {body}"
    return found[0]


# -- receipts ---------------------------------------------------------------------------------


@check("RCPT-001", MUST, profile="receipts")
async def check_a_message_reaching_the_recipient_is_receipted_delivered(rest, connect):
    """§9: when a message reaches a connection of the recipient, the sender gets a delivered
    receipt without the recipient doing anything."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    sender, recipient = await connect(ada), await connect(bob)
    ack = await send_to_chat(sender, chat["chatId"], "did it arrive?")
    await recipient.message(lambda f: f.get("chatId") == chat["chatId"])
    frame = await sender.notice(
        lambda f: receipt_of(chat["chatId"], bob)(f) and f.get("deliveredSeq", 0) >= ack["seq"]
    )
    assert set(frame) >= {"type", "chatId", "userId", "deliveredSeq", "readSeq"}, str(frame)
    assert frame["readSeq"] < ack["seq"] <= frame["deliveredSeq"], str(frame)


@check("RCPT-002", MUST, profile="receipts")
async def check_a_read_receipt_moves_the_marker_and_tells_the_sender(rest, connect):
    """§9: a read receipt is acknowledged with the markers now, and the sender is told that the
    message was read (and so delivered)."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    sender, reader = await connect(ada), await connect(bob)
    ack = await send_to_chat(sender, chat["chatId"], "read me")
    await reader.message(lambda f: f.get("chatId") == chat["chatId"])
    answer = await receipt(reader, chat["chatId"], "read", ack["seq"])
    expect_ack(answer, "receipt", chat["chatId"])
    assert answer.get("moved") is True and answer.get("readSeq") == ack["seq"], str(answer)
    assert answer.get("deliveredSeq", -1) >= ack["seq"], f"read but not delivered: {answer}"
    frame = await sender.notice(
        lambda f: receipt_of(chat["chatId"], bob)(f) and f.get("readSeq") == ack["seq"]
    )
    assert frame["deliveredSeq"] >= ack["seq"], f"read but not delivered: {frame}"
    seen = marker(await markers(rest, ada, chat["chatId"]), bob)
    assert seen["readSeq"] == ack["seq"], f"the stage does not keep the marker: {seen}"


@check("RCPT-003", MUST, profile="receipts")
async def check_a_marker_never_moves_back(rest, connect):
    """§9: an older receipt leaves the marker where it is (moved: false), tells nobody, and the
    markers read back unchanged."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    sender, reader = await connect(ada), await connect(bob)
    for n in range(3):
        last = await send_to_chat(sender, chat["chatId"], f"message {n}")
    await sender.notice(lambda f: receipt_of(chat["chatId"], bob)(f) and f["deliveredSeq"] == 3)
    await receipt(reader, chat["chatId"], "read", last["seq"])
    await sender.notice(lambda f: receipt_of(chat["chatId"], bob)(f) and f.get("readSeq") == 3)
    for kind in ("read", "delivered"):
        back = await receipt(reader, chat["chatId"], kind, 1)
        expect_ack(back, "receipt", chat["chatId"])
        assert back.get("moved") is False, f"an older {kind} receipt moved the marker: {back}"
        assert (back.get("readSeq"), back.get("deliveredSeq")) == (3, 3), str(back)
    seen = marker(await markers(rest, ada, chat["chatId"]), bob)
    assert (seen["readSeq"], seen["deliveredSeq"]) == (3, 3), f"moved back: {seen}"
    await round_trip(sender)
    # Frames may arrive out of order (clients keep the highest), but none may say 1 or 2.
    told = sender.drain_notices(receipt_of(chat["chatId"], bob))
    assert all(f.get("readSeq") in (0, 3) for f in told), f"told of a marker moving back: {told}"


@check("RCPT-004", MUST, profile="receipts")
async def check_one_receipt_covers_every_earlier_message(rest, connect):
    """§9: one read receipt of the newest message marks every earlier one read: the reader's
    unread count drops to 0 and the sender's counts say read for each."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    sender, reader = await connect(ada), await connect(bob)
    for n in range(5):
        last = await send_to_chat(sender, chat["chatId"], f"burst {n}")
    answer = await receipt(reader, chat["chatId"], "read", last["seq"])
    assert answer.get("readSeq") == last["seq"], str(answer)
    for seq in range(1, last["seq"] + 1):
        counts = (await markers(rest, ada, chat["chatId"], seq=seq)).get("counts")
        assert counts == {"seq": seq, "delivered": 1, "read": 1, "of": 1}, f"seq {seq}: {counts}"
    await eventually(
        lambda: rest.as_user(bob, "GET", f"/chats/{chat['chatId']}"),
        lambda a: a.status == 200 and a.body.get("unreadCount") == 0,
        "the reader has nothing unread",
        sender.timeout,
    )


@check("RCPT-005", MUST, profile="receipts")
async def check_a_group_counts_who_read_each_message(rest, connect):
    """§9: in a group, the counts of a message say how many of the other participants got and
    read it ("read by K of N")."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    chat = await group_chat(rest, ada, [bob, cy])
    sender, bob_peer, cy_peer = await connect(ada), await connect(bob), await connect(cy)
    await send_to_chat(sender, chat["chatId"], "first")
    await send_to_chat(sender, chat["chatId"], "second")
    await receipt(bob_peer, chat["chatId"], "read", 2)
    await receipt(cy_peer, chat["chatId"], "read", 1)
    body = await eventually(  # cy's delivered marker follows the fan-out of message 2
        lambda: markers(rest, ada, chat["chatId"], seq=2),
        lambda b: (b.get("counts") or {}).get("delivered") == 2,
        "both got message 2",
        sender.timeout,
    )
    assert body.get("participants") == 3, str(body)
    assert body.get("counts") == {"seq": 2, "delivered": 2, "read": 1, "of": 2}, str(body)
    first = (await markers(rest, ada, chat["chatId"], seq=1)).get("counts")
    assert first == {"seq": 1, "delivered": 2, "read": 2, "of": 2}, str(first)
    assert {r["userId"] for r in body["receipts"]} == {ada.user_id, bob.user_id, cy.user_id}


@check("RCPT-006", MUST, profile="receipts")
async def check_a_group_above_the_bound_gets_counts_not_frames(rest, connect):
    """§9: in a group of more participants than the stage's bound, a receipt is told to nobody,
    and the counts on request still say who read."""
    ada, bob = await users(rest, "ada", "bob")
    probe = await group_chat(rest, ada, [bob], name="probe")
    bound = (await markers(rest, ada, probe["chatId"])).get("liveMax")
    assert isinstance(bound, int) and bound >= 2, f"liveMax must be the stage's bound: {bound}"
    if bound > 40:
        raise PreconditionFailed(
            f"precondition: a group above liveMax {bound} needs too many users"
        )
    crowd = await users(rest, *[f"crowd{n}" for n in range(bound - 1)])
    chat = await group_chat(rest, ada, [bob, *crowd], name="crowd")
    body = await markers(rest, ada, chat["chatId"])
    assert body.get("participants") == bound + 1 and body.get("live") is False, str(body)
    sender, reader = await connect(ada), await connect(bob)
    ack = await send_to_chat(sender, chat["chatId"], "to the crowd")
    await reader.message(lambda f: f.get("chatId") == chat["chatId"])
    answer = await receipt(reader, chat["chatId"], "read", ack["seq"])
    assert answer.get("moved") is True, str(answer)
    counts = (await markers(rest, ada, chat["chatId"], seq=ack["seq"])).get("counts")
    assert counts is not None and counts["read"] == 1 and counts["of"] == bound, str(counts)
    await round_trip(sender)
    told = sender.drain_notices(lambda f: f.get("type") == "receipt")
    assert not told, f"receipt frames in a group above the bound: {told}"


@check("RCPT-007", MUST, profile="receipts")
async def check_receipts_stay_among_the_participants(rest, connect):
    """§9: nobody outside the chat is told of a receipt, and an outsider's receipt or request
    for the markers is answered as for a chat that does not exist."""
    ada, bob, eve = await users(rest, "ada", "bob", "eve")
    chat = await direct_chat(rest, ada, bob)
    sender, reader, outsider = await connect(ada), await connect(bob), await connect(eve)
    ack = await send_to_chat(sender, chat["chatId"], "between us")
    await receipt(reader, chat["chatId"], "read", ack["seq"])
    await sender.notice(receipt_of(chat["chatId"], bob))
    await round_trip(outsider)
    leaked = outsider.drain_notices(lambda f: f.get("chatId") == chat["chatId"])
    assert not leaked, f"an outsider was told: {leaked}"
    expect_error(await receipt(outsider, chat["chatId"], "read", 1), "CHAT_NOT_FOUND")
    expect_error(await receipt(outsider, chat["chatId"], "read", 99), "CHAT_NOT_FOUND")
    expect_error(await receipt(outsider, unknown_chat_id(), "read", 1), "CHAT_NOT_FOUND")
    answer = await rest.as_user(eve, "GET", f"/chats/{chat['chatId']}/receipts")
    expect_rest_error(answer, 404, "CHAT_NOT_FOUND")


@check("RCPT-008", MUST, profile="receipts")
async def check_a_bad_receipt_is_refused_and_moves_nothing(rest, connect):
    """§9: a receipt with a bad kind or seq, or a seq beyond the chat's latest message, gets
    VALIDATION_ERROR naming the field, and the markers stay."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    sender, reader = await connect(ada), await connect(bob)
    await send_to_chat(sender, chat["chatId"], "one")
    for frame, field in (
        ({"kind": "seen", "seq": 1}, "kind"),
        ({"seq": 1}, "kind"),
        ({"kind": "read", "seq": -1}, "seq"),
        ({"kind": "read", "seq": "1"}, "seq"),
        ({"kind": "read", "seq": 1.5}, "seq"),
        ({"kind": "read", "seq": 2}, "seq"),  # beyond the latest message
        ({"kind": "read"}, "seq"),
    ):
        answer = await reader.request({"action": "receipt", "chatId": chat["chatId"], **frame})
        expect_error(answer, "VALIDATION_ERROR", field)
    answer = await reader.request({"action": "receipt", "kind": "read", "seq": 1})
    expect_error(answer, "VALIDATION_ERROR", "chatId")
    bad = await rest.as_user(ada, "GET", f"/chats/{chat['chatId']}/receipts", params={"seq": "x"})
    expect_rest_error(bad, 400, "VALIDATION_ERROR", "seq")
    seen = marker(await markers(rest, ada, chat["chatId"]), bob)
    assert seen["readSeq"] == 0, f"a refused receipt moved the marker: {seen}"


@check("RCPT-009", MUST, profile="receipts")
async def check_a_small_groups_receipt_reaches_every_other_participant(rest, connect):
    """§9: in a group within the bound, a read receipt reaches every open connection of every
    other participant."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    chat = await group_chat(rest, ada, [bob, cy])
    phone, laptop, reader, third = (
        await connect(ada),
        await connect(ada),
        await connect(bob),
        await connect(cy),
    )
    ack = await send_to_chat(phone, chat["chatId"], "for the group")
    await receipt(reader, chat["chatId"], "read", ack["seq"])
    for peer in (phone, laptop, third):
        await peer.notice(
            lambda f: receipt_of(chat["chatId"], bob)(f) and f.get("readSeq") == ack["seq"]
        )


# -- receipts in rooms (§9, Rooms) ------------------------------------------------------------


async def room_members(rest: Rest, connect, room: str, *names: str) -> list[tuple[User, Peer]]:
    """Fresh users, each with a connection that joined ``room``."""
    joined = []
    for who in await users(rest, *names):
        peer = await connect(who)
        await peer.join(room)
        joined.append((who, peer))
    return joined


async def send_to_room(peer: Peer, room: str, text: str) -> dict:
    """Send to a room; returns the message's position ``{"messageId", "timestamp"}``."""
    ack = await peer.request({"action": "sendMessage", "roomId": room, "message": text})
    assert ack.get("type") == "ack" and ack.get("roomId") == room, f"expected an ack: {ack}"
    return {"messageId": ack["messageId"], "timestamp": ack["timestamp"]}


async def room_receipt(peer: Peer, room: str, kind: str, position: dict, **extra) -> dict:
    return await peer.request(
        {"action": "receipt", "roomId": room, "kind": kind, **position, **extra}
    )


def expect_room_ack(answer: dict, room: str, kind: str, position: dict) -> None:
    assert answer.get("type") == "ack" and answer.get("action") == "receipt", (
        f"expected the receipt ack, got {answer}"
    )
    shown = {k: answer.get(k) for k in ("roomId", "kind", "messageId", "timestamp")}
    assert shown == {"roomId": room, "kind": kind, **position}, f"ack of another receipt: {answer}"


def positions(answer: dict) -> tuple:
    """(delivered, read) of an ack or of ``mine``."""
    return answer.get("delivered"), answer.get("read")


async def room_markers(rest: Rest, who: User, room: str, position: dict | None = None) -> dict:
    answer = await rest.as_user(who, "GET", f"/rooms/{room}/receipts", params=position)
    assert answer.status == 200, f"GET /rooms/{{roomId}}/receipts: expected 200, got {answer}"
    return answer.body


@check("RCPT-010", MUST, profile="receipts")
async def check_a_room_receipt_moves_the_callers_markers_and_answers_them(rest, connect):
    """§9 Rooms: a delivered, then a read receipt of a room message is acknowledged with the
    caller's markers now, which the receipts of the room show as theirs."""
    room = unique_room()
    (ada, sender), (bob, reader) = await room_members(rest, connect, room, "ada", "bob")
    at = await send_to_room(sender, room, "for the room")
    await reader.message(lambda f: f.get("roomId") == room)
    answer = await room_receipt(reader, room, "delivered", at)
    expect_room_ack(answer, room, "delivered", at)
    assert answer.get("moved") is True and positions(answer) == (at, None), str(answer)
    answer = await room_receipt(reader, room, "read", at)
    expect_room_ack(answer, room, "read", at)
    assert answer.get("moved") is True and positions(answer) == (at, at), str(answer)
    body = await room_markers(rest, bob, room)
    assert body.get("roomId") == room and body.get("live") is False, str(body)
    assert positions(body.get("mine") or {}) == (at, at), f"not kept: {body}"
    assert body.get("counts") is None, f"counts without a message asked for: {body}"
    assert positions((await room_markers(rest, ada, room)).get("mine") or {}) == (None, None)


@check("RCPT-011", MUST, profile="receipts")
async def check_a_room_marker_never_moves_back(rest, connect):
    """§9 Rooms: a receipt at or before the marker answers moved: false and the markers read
    back unchanged."""
    room = unique_room()
    (_, sender), (bob, reader) = await room_members(rest, connect, room, "ada", "bob")
    first, second, third = [await send_to_room(sender, room, f"m{n}") for n in range(3)]
    assert (await room_receipt(reader, room, "delivered", third)).get("moved") is True
    assert (await room_receipt(reader, room, "read", second)).get("moved") is True
    for kind, position in (("read", first), ("read", second), ("delivered", second)):
        back = await room_receipt(reader, room, kind, position)
        expect_room_ack(back, room, kind, position)
        assert back.get("moved") is False, f"an older {kind} receipt moved the marker: {back}"
        assert positions(back) == (third, second), f"moved back: {back}"
    mine = (await room_markers(rest, bob, room)).get("mine") or {}
    assert positions(mine) == (third, second), f"moved back: {mine}"


@check("RCPT-012", MUST, profile="receipts")
async def check_a_room_read_implies_delivered(rest, connect):
    """§9 Rooms: a read receipt shows the message delivered too; a delivered receipt at or
    before the read marker moves nothing, and the counts count the reader as delivered."""
    room = unique_room()
    (ada, sender), (_, reader) = await room_members(rest, connect, room, "ada", "bob")
    first, second, third = [await send_to_room(sender, room, f"m{n}") for n in range(3)]
    answer = await room_receipt(reader, room, "read", second)
    assert answer.get("moved") is True and positions(answer) == (second, second), str(answer)
    for position in (first, second):
        same = await room_receipt(reader, room, "delivered", position)
        assert same.get("moved") is False, f"delivered moved below the read marker: {same}"
        assert positions(same) == (second, second), str(same)
    counts = (await room_markers(rest, ada, room, second)).get("counts") or {}
    assert (counts.get("delivered"), counts.get("read")) == (1, 1), str(counts)
    later = await room_receipt(reader, room, "delivered", third)
    assert later.get("moved") is True and positions(later) == (third, second), str(later)


@check("RCPT-013", MUST, profile="receipts")
async def check_a_room_counts_who_read_a_message(rest, connect):
    """§9 Rooms: the counts of a room message say how many of the other members got and read
    it, of how many ("read by K of N")."""
    room = unique_room()
    joined = await room_members(rest, connect, room, "ada", "bob", "cy")
    (ada, sender), (_, bob_peer), (_, cy_peer) = joined
    first = await send_to_room(sender, room, "first")
    second = await send_to_room(sender, room, "second")
    await room_receipt(sender, room, "read", second)  # the caller's own: not among the others
    await room_receipt(bob_peer, room, "read", second)
    await room_receipt(cy_peer, room, "delivered", second)
    await room_receipt(cy_peer, room, "read", first)
    body = await room_markers(rest, ada, room, second)
    assert body.get("members") == 3 and body.get("live") is False, str(body)
    assert body.get("counts") == {**second, "delivered": 2, "read": 1, "of": 2}, str(body)
    counts = (await room_markers(rest, ada, room, first)).get("counts")
    assert counts == {**first, "delivered": 2, "read": 2, "of": 2}, str(counts)


@check("RCPT-014", MUST, profile="receipts")
async def check_a_room_receipt_from_outside_the_room_is_refused(rest, connect):
    """§9 Rooms: a user not in the room (never, or no longer) gets NOT_IN_ROOM for a receipt or
    the markers, for a real message or not, and nothing moves."""
    room = unique_room()
    joined = await room_members(rest, connect, room, "ada", "bob")
    (ada, sender), (bob, leaver) = joined
    (eve,) = await users(rest, "eve")
    outsider = await connect(eve)
    at = await send_to_room(sender, room, "members only")
    answer = await leaver.request({"action": "leaveRoom", "roomId": room})
    assert answer.get("type") == "ack", f"leaveRoom: expected its ack, got {answer}"
    fake = {"messageId": unknown_user_id(), "timestamp": at["timestamp"]}
    for peer in (outsider, leaver):
        for position in (at, fake):
            expect_error(await room_receipt(peer, room, "read", position), "NOT_IN_ROOM")
    for who in (eve, bob):
        answer = await rest.as_user(who, "GET", f"/rooms/{room}/receipts", params=at)
        expect_rest_error(answer, 403, "NOT_IN_ROOM")
    counts = (await room_markers(rest, ada, room, at)).get("counts") or {}
    assert (counts.get("delivered"), counts.get("read")) == (0, 0), f"moved: {counts}"


@check("RCPT-015", MUST, profile="receipts")
async def check_a_bad_room_receipt_is_refused_and_moves_nothing(rest, connect):
    """§9 Rooms: a receipt for a message not in the room, or with a bad field, and a bad counts
    query get VALIDATION_ERROR naming the field, and the markers stay."""
    room, other = unique_room(), unique_room()
    (_, sender), (bob, reader) = await room_members(rest, connect, room, "ada", "bob")
    await reader.join(other)
    at = await send_to_room(sender, room, "here")
    elsewhere = await send_to_room(reader, other, "there")
    for frame, field in (
        ({**elsewhere, "kind": "read"}, "messageId"),  # another room's message
        ({**at, "timestamp": at["timestamp"] + 1, "kind": "read"}, "messageId"),
        ({**at, "messageId": unknown_user_id(), "kind": "read"}, "messageId"),
        ({**at, "kind": "seen"}, "kind"),
        ({"timestamp": at["timestamp"], "kind": "read"}, "messageId"),
        ({"messageId": at["messageId"], "kind": "read"}, "timestamp"),
        ({**at, "timestamp": str(at["timestamp"]), "kind": "read"}, "timestamp"),
        ({**at, "timestamp": -1, "kind": "read"}, "timestamp"),
    ):
        answer = await reader.request({"action": "receipt", "roomId": room, **frame})
        expect_error(answer, "VALIDATION_ERROR", field)
    both = await room_receipt(reader, room, "read", at, chatId=unknown_chat_id())
    expect_error(both, "VALIDATION_ERROR")
    assert both.get("field") in ("chatId", "roomId"), f"expected the field named: {both}"
    path = f"/rooms/{room}/receipts"
    for params, field in (
        ({"messageId": at["messageId"]}, "timestamp"),
        ({"timestamp": at["timestamp"]}, "messageId"),
        ({"messageId": at["messageId"], "timestamp": "x"}, "timestamp"),
        (elsewhere, "messageId"),
    ):
        answer = await rest.as_user(bob, "GET", path, params=params)
        expect_rest_error(answer, 400, "VALIDATION_ERROR", field)
    mine = (await room_markers(rest, bob, room)).get("mine") or {}
    assert positions(mine) == (None, None), f"a refused receipt moved the marker: {mine}"


@check("RCPT-016", MUST, profile="receipts")
async def check_no_receipt_frame_reaches_anyone_in_a_room(rest, connect):
    """§9 Rooms: a room receipt is told to no connection — not the sender's, not the other
    members', not the reader's own."""
    room = unique_room()
    joined = await room_members(rest, connect, room, "ada", "bob", "cy")
    (_, sender), (_, reader), (_, third) = joined
    at = await send_to_room(sender, room, "quietly read")
    for peer in (sender, reader, third):
        await peer.message(lambda f: f.get("roomId") == room)
    assert (await room_receipt(reader, room, "delivered", at)).get("moved") is True
    assert (await room_receipt(reader, room, "read", at)).get("moved") is True
    for peer in (sender, reader, third):
        await round_trip(peer)
        told = await peer.notices_within_quiet_window(lambda f: f.get("type") == "receipt")
        assert not told, f"receipt frames in a room: {told}"


@check("RCPT-017", MUST, profile="receipts")
async def check_a_member_who_left_the_room_is_not_counted(rest, connect):
    """§9 Rooms: the counts are of the room's members: one who read a message and then left is
    no longer counted, and comes back with no markers."""
    room = unique_room()
    joined = await room_members(rest, connect, room, "ada", "bob", "cy")
    (ada, sender), (bob, leaver), _ = joined
    at = await send_to_room(sender, room, "read, then gone")
    assert (await room_receipt(leaver, room, "read", at)).get("moved") is True
    answer = await leaver.request({"action": "leaveRoom", "roomId": room})
    assert answer.get("type") == "ack", f"leaveRoom: expected its ack, got {answer}"
    counts = (await room_markers(rest, ada, room, at)).get("counts")
    assert counts == {**at, "delivered": 0, "read": 0, "of": 1}, f"counts after a leave: {counts}"
    await leaver.join(room)
    mine = (await room_markers(rest, bob, room)).get("mine") or {}
    assert positions(mine) == (None, None), f"markers kept over a leave: {mine}"


# -- typing -----------------------------------------------------------------------------------


async def typing(peer: Peer, chat_id: str, state) -> dict:
    return await peer.request({"action": "typing", "chatId": chat_id, "state": state})


@check("TYPE-001", MUST, profile="receipts")
async def check_typing_reaches_every_other_participant(rest, connect):
    """§10: a typing start is acknowledged and reaches every connection of every other
    participant, with who, the state and how long it shows without renewal."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    chat = await group_chat(rest, ada, [bob, cy])
    typist, bob_phone, bob_laptop, third = (
        await connect(ada),
        await connect(bob),
        await connect(bob),
        await connect(cy),
    )
    answer = await typing(typist, chat["chatId"], "start")
    expect_ack(answer, "typing", chat["chatId"])
    assert answer.get("state") == "start", str(answer)
    for peer in (bob_phone, bob_laptop, third):
        frame = await peer.notice(typing_of(chat["chatId"], ada))
        assert frame.get("state") == "start" and frame.get("username") == "ada", str(frame)
        expiry = frame.get("expiresInMs")
        assert isinstance(expiry, int) and 0 < expiry <= MAX_TYPING_EXPIRY_MS, str(frame)


@check("TYPE-002", MUST, profile="receipts")
async def check_typing_never_reaches_anyone_outside_the_chat(rest, connect):
    """§10: no connection of a non-participant, nor the typist's own, receives the signal."""
    ada, bob, eve = await users(rest, "ada", "bob", "eve")
    chat = await direct_chat(rest, ada, bob)
    await direct_chat(rest, ada, eve)  # eve knows ada, but is not in this chat
    typist, own, other, outsider = (
        await connect(ada),
        await connect(ada),
        await connect(bob),
        await connect(eve),
    )
    await typing(typist, chat["chatId"], "start")
    await other.notice(typing_of(chat["chatId"], ada))
    for peer in (outsider, own):
        await round_trip(peer)
        leaked = peer.drain_notices(lambda f: f.get("type") == "typing")
        assert not leaked, f"typing reached a connection outside the audience: {leaked}"


@check("TYPE-003", MUST, profile="receipts")
async def check_typing_is_rate_limited_per_user_and_chat(rest, connect):
    """§10: a second start in the same chat within a second is refused with RATE_LIMITED and
    not fanned out; the same user may still type in another chat."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    chat = await direct_chat(rest, ada, bob)
    other_chat = await direct_chat(rest, ada, cy)
    typist, watcher = await connect(ada), await connect(bob)
    began = time.monotonic()
    first = await typing(typist, chat["chatId"], "start")
    second = await typing(typist, chat["chatId"], "start")
    if time.monotonic() - began >= 1.0 and second.get("type") == "ack":
        raise PreconditionFailed("precondition: two typing frames took over a second to answer")
    expect_ack(first, "typing", chat["chatId"])
    expect_error(second, "RATE_LIMITED")
    expect_ack(await typing(typist, other_chat["chatId"], "start"), "typing", other_chat["chatId"])
    await watcher.notice(typing_of(chat["chatId"], ada))
    await round_trip(watcher)
    more = watcher.drain_notices(typing_of(chat["chatId"], ada))
    assert not more, f"a refused typing signal was fanned out: {more}"


@check("TYPE-004", MUST, profile="receipts")
async def check_typing_stop_reaches_the_others(rest, connect):
    """§10: a stop after a start reaches the other participants as state stop."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    typist, watcher = await connect(ada), await connect(bob)
    await typing(typist, chat["chatId"], "start")
    expect_ack(await typing(typist, chat["chatId"], "stop"), "typing", chat["chatId"])
    states = [(await watcher.notice(typing_of(chat["chatId"], ada))).get("state") for _ in "ab"]
    assert states == ["start", "stop"], f"expected start then stop, got {states}"


@check("TYPE-005", MUST, profile="receipts")
async def check_typing_is_never_stored(rest, connect):
    """§10: typing adds nothing to the chat's history and does not change its messages or
    unread counts."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    typist = await connect(ada)
    await send_to_chat(typist, chat["chatId"], "a real message")
    before = await eventually(  # the chat's entry follows its messages within a moment (§8)
        lambda: rest.as_user(bob, "GET", f"/chats/{chat['chatId']}"),
        lambda a: a.status == 200 and a.body.get("lastSeq") == 1,
        "the message is in the chat",
        typist.timeout,
    )
    await typing(typist, chat["chatId"], "start")
    await typing(typist, chat["chatId"], "stop")
    history = await rest.as_user(bob, "GET", f"/chats/{chat['chatId']}/messages")
    assert [m["message"] for m in history.body["messages"]] == ["a real message"], str(history)
    after = await rest.as_user(bob, "GET", f"/chats/{chat['chatId']}")
    changed = {
        k for k in ("lastSeq", "unreadCount", "lastMessage") if after.body[k] != before.body[k]
    }
    assert not changed, f"typing changed {sorted(changed)}: {before.body} -> {after.body}"


@check("TYPE-006", MUST, profile="receipts")
async def check_a_bad_typing_frame_is_refused(rest, connect):
    """§10: a bad state gets VALIDATION_ERROR on state; typing in a chat one is not in (or that
    does not exist) gets CHAT_NOT_FOUND."""
    ada, bob, eve = await users(rest, "ada", "bob", "eve")
    chat = await direct_chat(rest, ada, bob)
    typist, outsider = await connect(ada), await connect(eve)
    for state in ("typing", None, 1):
        expect_error(await typing(typist, chat["chatId"], state), "VALIDATION_ERROR", "state")
    answer = await typist.request({"action": "typing", "state": "start"})
    expect_error(answer, "VALIDATION_ERROR", "chatId")
    expect_error(await typing(outsider, chat["chatId"], "start"), "CHAT_NOT_FOUND")
    expect_error(await typing(typist, unknown_chat_id(), "start"), "CHAT_NOT_FOUND")


# -- presence ---------------------------------------------------------------------------------


@check("PRES-001", MUST, profile="receipts")
async def check_a_users_first_connection_makes_them_online(rest, connect):
    """§11: when a user's first connection opens, every connection of their chat partners is
    told they are online."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    await direct_chat(rest, ada, bob)
    await group_chat(rest, cy, [bob])
    ada_peer, cy_peer = await connect(ada), await connect(cy)
    await connect(bob)
    for peer in (ada_peer, cy_peer):
        frame = await peer.notice(presence_of(bob, online=True))
        assert frame.get("lastSeen") is None, f"online, yet a lastSeen: {frame}"


@check("PRES-002", MUST, profile="receipts")
async def check_a_users_last_connection_closing_makes_them_offline(rest, connect):
    """§11: when a user's last connection closes, their chat partners are told they are offline,
    with when they were last seen."""
    ada, bob = await users(rest, "ada", "bob")
    await direct_chat(rest, ada, bob)
    watcher = await connect(ada)
    leaver = await connect(bob)
    await watcher.notice(presence_of(bob, online=True))
    opened = time.time() * 1000
    await leaver.close()
    frame = await watcher.notice(presence_of(bob, online=False))
    last_seen = frame.get("lastSeen")
    assert isinstance(last_seen, int), f"offline without lastSeen: {frame}"
    assert opened - 60_000 <= last_seen <= time.time() * 1000 + 60_000, str(frame)


@check("PRES-003", MUST, profile="receipts")
async def check_presence_changes_only_with_the_first_and_last_connection(rest, connect):
    """§11: a second connection does not announce online again, and closing one of two does not
    announce offline; closing the last does."""
    ada, bob = await users(rest, "ada", "bob")
    await direct_chat(rest, ada, bob)
    watcher = await connect(ada)
    phone = await connect(bob)
    await watcher.notice(presence_of(bob, online=True))
    laptop = await connect(bob)
    await round_trip(watcher)
    again = watcher.drain_notices(presence_of(bob))
    assert not again, f"a second connection announced presence again: {again}"
    await phone.close()
    await asyncio.sleep(QUIET_SECONDS)  # watching for a wrong "offline": no event to wait on
    await round_trip(watcher)
    early = watcher.drain_notices(presence_of(bob))
    assert not early, f"offline while a connection was still open: {early}"
    await laptop.close()
    await watcher.notice(presence_of(bob, online=False))


@check("PRES-004", MUST, profile="receipts")
async def check_the_chat_list_carries_the_peers_presence(rest, connect):
    """§11: GET /chats (and GET /chats/{chatId}) carry a direct chat's peer presence: online
    while connected, then offline with lastSeen."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    peer = await connect(bob)

    def presence(body: dict):
        entry = [c for c in body["chats"] if c["chatId"] == chat["chatId"]]
        return entry[0].get("presence") if entry else None

    async def listing() -> dict:
        answer = await rest.as_user(ada, "GET", "/chats")
        assert answer.status == 200, str(answer)
        return answer.body

    await eventually(
        listing,
        lambda body: (presence(body) or {}).get("online") is True,
        "the list shows bob online",
        peer.timeout,
    )
    await peer.close()
    body = await eventually(
        listing,
        lambda body: (presence(body) or {}).get("online") is False,
        "the list shows bob offline",
        peer.timeout * 2,
    )
    assert isinstance(presence(body).get("lastSeen"), int), str(presence(body))
    detail = await rest.as_user(ada, "GET", f"/chats/{chat['chatId']}")
    assert detail.status == 200 and (detail.body.get("presence") or {}).get("online") is False, (
        f"GET /chats/{{chatId}} must carry the peer's presence: {detail}"
    )


@check("PRES-005", MUST, profile="receipts")
async def check_presence_reaches_chat_partners_only(rest, connect):
    """§11: a user who shares no chat with someone is never told of their presence."""
    ada, bob, eve = await users(rest, "ada", "bob", "eve")
    await direct_chat(rest, ada, bob)
    partner, stranger = await connect(ada), await connect(eve)
    leaver = await connect(bob)
    await partner.notice(presence_of(bob, online=True))
    await leaver.close()
    await partner.notice(presence_of(bob, online=False))
    await round_trip(stranger)
    leaked = stranger.drain_notices(presence_of(bob))
    assert not leaked, f"a stranger was told of bob's presence: {leaked}"
