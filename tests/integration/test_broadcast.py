"""Broadcast: every member of the room, the sender included, and nobody else — exactly once."""

from __future__ import annotations

import asyncio

import boto3

from tests.support.chat_client import TIMEOUT, Peer, Rest, unique_room


async def _peers(stage, rest: Rest, count: int) -> list[Peer]:
    users = await asyncio.gather(*(rest.new_user(f"user{i}") for i in range(count)))
    return [await Peer.connect(stage.ws_url, u.token) for u in users]


async def _quiet(peer: Peer) -> None:
    """Prove ``peer`` got no broadcast: a round trip after the others received theirs."""
    await peer.request({"action": "joinRoom", "roomId": unique_room()})
    assert peer.broadcasts.empty(), f"unexpected broadcast: {peer.broadcasts.get_nowait()}"


async def test_message_reaches_room_members_and_sender_only(stage, rest: Rest):
    """Members of the room (sender included) get the message frame; an outsider gets nothing."""
    sender, member, outsider = await _peers(stage, rest, 3)
    room = unique_room()
    await sender.join(room)
    await member.join(room)
    text = "<script>alert('hi')</script> & <b>bold</b>  "
    ack = await sender.request({"action": "sendMessage", "roomId": room, "message": text})
    for peer in (sender, member):
        frame = await peer.broadcast()
        assert frame == {
            "type": "message",
            "messageId": ack["messageId"],
            "roomId": room,
            "userId": frame["userId"],
            "username": "user0",
            "message": text,
            "timestamp": ack["timestamp"],
            "clientMessageId": None,
        }, frame
    await _quiet(outsider)
    for peer in (sender, member, outsider):
        await peer.close()


async def test_left_room_gets_no_more_messages(stage, rest: Rest):
    """After leaveRoom a connection no longer receives the room's messages."""
    sender, leaver = await _peers(stage, rest, 2)
    room = unique_room()
    await sender.join(room)
    await leaver.join(room)
    await leaver.request({"action": "leaveRoom", "roomId": room})
    await sender.request({"action": "sendMessage", "roomId": room, "message": "bye"})
    assert (await sender.broadcast())["message"] == "bye"
    await _quiet(leaver)
    await sender.close()
    await leaver.close()


async def test_repeated_client_message_id_is_stored_and_broadcast_once(stage, rest: Rest):
    """A repeated clientMessageId is acknowledged as a duplicate and broadcast once."""
    sender, member = await _peers(stage, rest, 2)
    room = unique_room()
    await sender.join(room)
    await member.join(room)
    frame = {"action": "sendMessage", "roomId": room, "message": "once", "clientMessageId": "m-1"}
    first = await sender.request(frame)
    second = await sender.request(frame)
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert second["messageId"] == first["messageId"]
    assert second["timestamp"] == first["timestamp"]
    got = await member.broadcast()
    assert got["messageId"] == first["messageId"] and got["clientMessageId"] == "m-1"
    # A later, different message arrives next: the repeat was never broadcast.
    await sender.request({"action": "sendMessage", "roomId": room, "message": "after"})
    assert (await member.broadcast())["message"] == "after"
    history = await member.request({"action": "getMessages", "roomId": room})
    assert [m["message"] for m in history["messages"]] == ["once", "after"]
    for peer in (sender, member):
        await peer.close()


async def test_same_client_message_id_from_another_user_is_a_new_message(stage, rest: Rest):
    """clientMessageId is scoped to its user: another user's equal id is not a duplicate."""
    a, b = await _peers(stage, rest, 2)
    room = unique_room()
    await a.join(room)
    await b.join(room)
    frame = {"action": "sendMessage", "roomId": room, "message": "x", "clientMessageId": "same"}
    first, second = await a.request(frame), await b.request(frame)
    assert first["duplicate"] is False and second["duplicate"] is False
    assert first["messageId"] != second["messageId"]
    await a.close()
    await b.close()


async def test_stale_connections_are_removed_and_others_still_served(stage, rest: Rest, dynamodb):
    """Recipients that answer 410 are deleted; members listed after them still get the message."""
    sender, member = await _peers(stage, rest, 2)
    room = unique_room()
    await sender.join(room)
    await member.join(room)
    stale = ["AAAAstale000=", "zzzzstale999="]  # sort before and after the real members
    for connection_id in stale:
        dynamodb.put_item(
            TableName="chatstack-local-connections",
            Item={
                "pk": {"S": f"room#{room}"},
                "sk": {"S": f"conn#{connection_id}"},
                "connectionId": {"S": connection_id},
                "roomId": {"S": room},
                "userId": {"S": "ghost"},
                "username": {"S": "ghost"},
                "ttl": {"N": "9999999999"},
            },
        )
    await sender.request({"action": "sendMessage", "roomId": room, "message": "still here"})
    assert (await member.broadcast())["message"] == "still here"
    assert (await sender.broadcast())["message"] == "still here"
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        items = dynamodb.query(
            TableName="chatstack-local-connections",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"room#{room}"}},
            ConsistentRead=True,
        )["Items"]
        left = {i["connectionId"]["S"] for i in items} & set(stale)
        if not left:
            break
        assert asyncio.get_running_loop().time() < deadline, f"stale rows remain: {left}"
        await asyncio.sleep(0.05)
    await sender.close()
    await member.close()


async def test_many_members_all_receive(stage, rest: Rest):
    """Twenty connections in one room each receive each of five messages exactly once."""
    peers = await _peers(stage, rest, 4)
    user_tokens = [p for p in peers]
    extra = []
    users = await asyncio.gather(*(rest.new_user(f"m{i}") for i in range(4)))
    for u in users:
        for _ in range(4):
            extra.append(await Peer.connect(stage.ws_url, u.token))
    members = user_tokens + extra
    room = unique_room()
    for peer in members:
        await peer.join(room)
    acks = [
        await members[i].request({"action": "sendMessage", "roomId": room, "message": f"n{i}"})
        for i in range(5)
    ]
    expected = {a["messageId"] for a in acks}
    for peer in members:
        got = [(await peer.broadcast())["messageId"] for _ in range(5)]
        assert sorted(got) == sorted(expected), got
    for peer in members:
        await _quiet(peer)
        await peer.close()


def test_management_client_gone_is_modeled(stage):
    """Sanity: boto3 sees the stage's 410 as GoneException (what the broadcaster relies on)."""
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=stage.management_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    try:
        client.post_to_connection(ConnectionId="nobody=", Data=b"x")
    except client.exceptions.GoneException:
        return
    raise AssertionError("posting to an unknown connection did not raise GoneException")
