"""Fan-out behind the contract: stale rows are removed, and the @connections errors it meets."""

from __future__ import annotations

import asyncio

from conformance.client import unique_room
from tests.integration.conftest import TIMEOUT


async def test_stale_connections_are_removed_and_others_still_served(
    rest, connect, dynamodb, connections_table
):
    """Recipients that answer 410 are deleted; members listed after them still get the message."""
    sender, member = (
        await connect(await rest.new_user("s")),
        await connect(await rest.new_user("m")),
    )
    room = unique_room()
    await sender.join(room)
    await member.join(room)
    stale = ["AAAAstale000=", "zzzzstale999="]  # sort before and after the real members
    for connection_id in stale:
        dynamodb.put_item(
            TableName=connections_table,
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
    assert (await member.message(lambda f: f["roomId"] == room))["message"] == "still here"
    assert (await sender.message(lambda f: f["roomId"] == room))["message"] == "still here"
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        items = dynamodb.query(
            TableName=connections_table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"room#{room}"}},
            ConsistentRead=True,
        )["Items"]
        left = {i["sk"]["S"].removeprefix("conn#") for i in items} & set(stale)
        if not left:
            break
        assert asyncio.get_running_loop().time() < deadline, f"stale rows remain: {left}"
        await asyncio.sleep(0.05)


def test_management_client_gone_is_modeled(stage):
    """boto3 sees the stage's 410 as GoneException, which the broadcaster relies on."""
    client = stage.client("apigatewaymanagementapi", stage.management_url)
    try:
        client.post_to_connection(ConnectionId="nobody=", Data=b"x")
    except client.exceptions.GoneException:
        return
    raise AssertionError("posting to an unknown connection did not raise GoneException")
