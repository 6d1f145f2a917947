"""Area rooms: rooms belong to users; the directory of rooms (CONTRACT.md §6)."""

from __future__ import annotations

import asyncio
import uuid

from conformance.chat_steps import eventually, expect_rest_error
from conformance.client import Peer, unique_room
from conformance.plugin import MUST, check


async def hears(peer: Peer, sender: Peer, room: str, text: str) -> None:
    """``sender`` says ``text`` in ``room`` and ``peer`` receives it."""
    ack = await sender.request({"action": "sendMessage", "roomId": room, "message": text})
    assert ack.get("type") == "ack", f"sendMessage to {room}: expected an ack, got {ack}"
    frame = await peer.message(lambda f: f.get("roomId") == room and f.get("message") == text)
    assert frame["message"] == text


async def directory(rest, who, **params) -> dict:
    answer = await rest.as_user(who, "GET", "/rooms", params=params)
    assert answer.status == 200, f"GET /rooms: expected 200, got {answer}"
    return answer.body


@check("ROOM-001", MUST, profile="chats")
async def check_a_users_rooms_carry_over_to_a_new_connection(rest, connect):
    """§6: a new connection of a user starts joined to the rooms the user joined before."""
    ada, bob = await asyncio.gather(rest.new_user("ada"), rest.new_user("bob"))
    room = unique_room()
    first = await connect(ada)
    await first.join(room)
    await first.close()
    second, sender = await connect(ada), await connect(bob)
    await sender.join(room)
    await hears(second, sender, room, "you are still in")
    ack = await second.request({"action": "sendMessage", "roomId": room, "message": "back"})
    assert ack.get("type") == "ack", f"sending without joining again: expected an ack, got {ack}"


@check("ROOM-002", MUST, profile="chats")
async def check_a_join_reaches_the_users_other_connections(rest, connect):
    """§6: joinRoom on one connection joins the user's other open connection, which is told
    with roomJoined."""
    ada, bob = await asyncio.gather(rest.new_user("ada"), rest.new_user("bob"))
    phone, laptop, sender = await connect(ada), await connect(ada), await connect(bob)
    room = unique_room()
    await phone.join(room)
    notice = await laptop.notice(lambda f: f.get("roomId") == room)
    assert notice == {"type": "roomJoined", "roomId": room}, str(notice)
    assert not phone.drain_notices(lambda f: f.get("roomId") == room), "the joiner was told too"
    await sender.join(room)
    await hears(laptop, sender, room, "to every device")


@check("ROOM-003", MUST, profile="chats")
async def check_leaving_is_for_the_user_and_for_good(rest, connect):
    """§6: leaveRoom on one connection leaves on the user's others (roomLeft) and on the
    connections the user opens later."""
    ada, bob = await asyncio.gather(rest.new_user("ada"), rest.new_user("bob"))
    phone, laptop, sender = await connect(ada), await connect(ada), await connect(bob)
    room = unique_room()
    await phone.join(room)
    await sender.join(room)
    await phone.request({"action": "leaveRoom", "roomId": room})
    notice = await laptop.notice(lambda f: f.get("type") == "roomLeft")
    assert notice == {"type": "roomLeft", "roomId": room}, str(notice)
    answer = await laptop.request({"action": "sendMessage", "roomId": room, "message": "x"})
    assert answer.get("code") == "NOT_IN_ROOM", f"the other connection stayed in: {answer}"
    later = await connect(ada)
    answer = await later.request({"action": "sendMessage", "roomId": room, "message": "x"})
    assert answer.get("code") == "NOT_IN_ROOM", f"a new connection was joined: {answer}"


@check("ROOM-004", MUST, profile="chats")
async def check_the_users_rooms_are_listed(rest, connect):
    """§6: GET /me/rooms lists the caller's rooms — general for a new user — with counts."""
    ada = await rest.new_user("ada")
    mine = await rest.as_user(ada, "GET", "/me/rooms")
    assert mine.status == 200, str(mine)
    assert [r["roomId"] for r in mine.body["rooms"]] == ["general"], str(mine)
    assert mine.body["rooms"][0]["members"] >= 1, str(mine)
    room = unique_room()
    await (await connect(ada)).join(room)
    mine = await rest.as_user(ada, "GET", "/me/rooms")
    assert {r["roomId"] for r in mine.body["rooms"]} == {"general", room}, str(mine)


@check("ROOM-005", MUST, profile="chats")
async def check_the_directory_finds_rooms_with_their_member_counts(
    rest, connect, conformance_timeout
):
    """§6: GET /rooms finds a room by prefix in any letter case with the count of its members,
    which follows joins and leaves; a room nobody is in is not listed."""
    ada, bob = await asyncio.gather(rest.new_user("ada"), rest.new_user("bob"))
    room = f"Dir-{uuid.uuid4().hex[:12]}"
    a, b = await connect(ada), await connect(bob)
    await a.join(room)
    await b.join(room)

    def counted(members: int | None):
        def accept(body: dict) -> bool:
            listed = {r["roomId"]: r["members"] for r in body["rooms"]}
            return listed.get(room) == members

        return accept

    probe = lambda: directory(rest, ada, prefix=room.upper())  # noqa: E731
    await eventually(probe, counted(2), "two members are counted", conformance_timeout)
    await b.request({"action": "leaveRoom", "roomId": room})
    await eventually(probe, counted(1), "one member is left", conformance_timeout)
    await a.request({"action": "leaveRoom", "roomId": room})
    await eventually(probe, counted(None), "the empty room is gone", conformance_timeout)


@check("ROOM-006", MUST, profile="chats")
async def check_the_directory_is_paged_and_bounded(rest, connect, conformance_timeout):
    """§6: the directory pages with nextCursor (each room once, by name) and refuses a bad
    prefix or limit."""
    ada = await rest.new_user("ada")
    tag = f"pg-{uuid.uuid4().hex[:10]}"
    rooms = [f"{tag}-{n}" for n in ("a", "b", "c")]
    peer = await connect(ada)
    for room in rooms:
        await peer.join(room)
    await eventually(
        lambda: directory(rest, ada, prefix=tag),
        lambda body: len(body["rooms"]) == 3,
        "the three rooms are listed",
        conformance_timeout,
    )
    seen, cursor = [], None
    for _ in range(4):
        body = await directory(
            rest, ada, prefix=tag, limit=2, **({"cursor": cursor} if cursor else {})
        )
        assert len(body["rooms"]) <= 2, str(body)
        seen += [r["roomId"] for r in body["rooms"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == rooms, f"expected each room once, by name; got {seen}"
    for params, field in (({"prefix": "has space"}, "prefix"), ({"limit": 0}, "limit")):
        answer = await rest.as_user(ada, "GET", "/rooms", params=params)
        expect_rest_error(answer, 400, "VALIDATION_ERROR", field)
