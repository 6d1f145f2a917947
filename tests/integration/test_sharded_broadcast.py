"""Sharded fan-out on a real local stage: the broadcaster hands a large room's message to the
fan-out function through the stage's Lambda Invoke API, in shards run by its worker processes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import aiohttp
import pytest

from conformance.client import Peer, Rest, unique_room
from tests.integration.conftest import TIMEOUT
from tests.support.stage_process import RunningStage, start_stage

SHARD_SIZE = 2


@pytest.fixture(scope="module")
def sharding_stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStage]:
    running = start_stage(
        tmp_path_factory.mktemp("sharding"),
        "--shard-threshold",
        "3",
        "--shard-size",
        str(SHARD_SIZE),
    )
    yield running
    running.stop()


def _shard_invocations(stage: RunningStage) -> list[dict]:
    lines = [json.loads(x) for x in stage.stderr.read_text().splitlines() if x.startswith("{")]
    return [x for x in lines if x.get("message") == "invoke" and x["function"] == "fanout_shard"]


async def test_a_large_room_is_delivered_in_shards_exactly_once(sharding_stage):
    stage = sharding_stage
    async with aiohttp.ClientSession() as http:
        rest = Rest(http, stage.rest_url, TIMEOUT)
        peers = [
            await Peer.connect(stage.ws_url, (await rest.new_user(f"p{n}")).token, TIMEOUT)
            for n in range(5)
        ]
        try:
            room = unique_room()
            for peer in peers:
                await peer.join(room)
            dynamodb = stage.client("dynamodb")
            dynamodb.put_item(  # a member whose connection is gone: 410, then removed
                TableName=stage.table("connections"),
                Item={
                    "pk": {"S": f"room#{room}"},
                    "sk": {"S": "conn#zzzzstale="},
                    "connectionId": {"S": "zzzzstale="},
                    "roomId": {"S": room},
                    "userId": {"S": "ghost"},
                    "username": {"S": "ghost"},
                    "ttl": {"N": "9999999999"},
                },
            )
            ack = await peers[0].request(
                {"action": "sendMessage", "roomId": room, "message": "to everyone"}
            )
            for peer in peers:
                frame = await peer.message(lambda f: f["roomId"] == room)
                assert frame["messageId"] == ack["messageId"]
            # Six recipients in shards of two: three invocations of the fan-out function.
            deadline = asyncio.get_running_loop().time() + TIMEOUT
            while len(_shard_invocations(stage)) < 3:
                assert asyncio.get_running_loop().time() < deadline, _shard_invocations(stage)
                await asyncio.sleep(0.05)
            invocations = _shard_invocations(stage)
            assert len(invocations) == 3 and all(x["outcome"] == "ok" for x in invocations)
            # Nothing more arrives: a second message comes after, and the first never again.
            await peers[1].request({"action": "sendMessage", "roomId": room, "message": "next"})
            for peer in peers:
                await peer.message(lambda f: f["roomId"] == room and f["message"] == "next")
                again = peer.drain(lambda f: f["messageId"] == ack["messageId"])
                assert again == [], f"delivered twice: {again}"
            left = dynamodb.query(
                TableName=stage.table("connections"),
                KeyConditionExpression="pk = :pk AND sk = :sk",
                ExpressionAttributeValues={
                    ":pk": {"S": f"room#{room}"},
                    ":sk": {"S": "conn#zzzzstale="},
                },
                ConsistentRead=True,
            )["Items"]
            assert left == [], "the gone member was not removed"
        finally:
            for peer in peers:
                await peer.close()
