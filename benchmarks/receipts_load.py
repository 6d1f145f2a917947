"""Receipts, typing and presence under load: writes and frames per message against the bound
(issue 16; RECEIPTS.md §9-§11).

Three scenarios against one local stage whose DynamoDB Local this script starts, so it can read
the Chats table's stream afterwards — every item write that changed something is one stream
record, which is how the writes are counted (a refused conditional write changes nothing and
writes no record; it is counted from the acks instead):

- **group**: a group of ``--group-size`` (99, the most a group may have: the stage is started
  with ``CHATSTACK_MAX_GROUP_PARTICIPANTS=99``) where everyone reads everything: every member
  sends a read receipt for each message it is shown. Above the stage's bound (``liveMax``, 20)
  no receipt frame may be sent at all, and each message may cost at most one delivered and one
  read marker write per other member (and the sender's own read) — O(members) per message,
  never O(members²); the fan-out moves delivered markers once per batch, not per message.
- **small**: the same in a group within the bound (``--small-size``, 10): receipt frames go to
  the others, at most 2 × (n − 1) markers told to n − 1 others per message.
- **room**: a room of ``--room-size`` (100) members where everyone reads everything: each
  member sends a ``delivered`` and a ``read`` receipt (``roomId``, ``messageId``,
  ``timestamp``) for each message of another member it is shown. Rooms have no receipt frames
  at all, and the fan-out writes no room markers: each message may cost at most one delivered
  and one read marker write per other member — 2 (n − 1), O(members).
- **typing**: ``--pairs`` 1:1 chats whose users both send ``typing start`` every
  ``--typing-every`` seconds for ``--typing-seconds``: the rate limit lets at most one per
  interval through per user and chat, and each admitted signal is one frame to the peer.

    python -m benchmarks.receipts_load                       # all three, default sizes
    python -m benchmarks.receipts_load --group-size 30 --messages 10 --json out.json
    python -m benchmarks.receipts_load --scenarios room --room-size 100

It prints the figures and a verdict per scenario (``--scenarios``: a comma-separated choice of
``group,small,room,typing``, all by default), and exits 1 if a bound is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import boto3
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from benchmarks.room_load import accounts
from benchmarks.stage import running_stage
from reference_stack.local.dynamodb_local import DynamoDBLocal

__all__ = ["Aws", "main", "parse_args", "run"]

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}
MARKERS = ("deliveredSeq", "readSeq", "lastSeq")  # what a chat's member-item write may change
WAIT_SECONDS = 120.0  # the bound on every wait of a scenario
SEND_INTERVAL = 0.25  # between two messages of a scenario (a bounded rate)


@dataclass(frozen=True)
class Aws:
    """The stage's DynamoDB and Streams clients, and its Chats table."""

    dynamodb: Any
    streams: Any
    chats_table: str


@dataclass
class Member:
    user_id: str
    token: str
    ws: ClientConnection | None = None
    frames: Counter[str] = field(default_factory=Counter)
    receipts_sent: int = 0
    receipt_acks: int = 0
    receipts_moved: int = 0
    typing_acks: int = 0
    typing_refused: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    seen_seqs: set[int] = field(default_factory=set)
    seen_room_messages: set[tuple[str, str]] = field(default_factory=set)  # (room, message)


async def _wait_until(condition: Any, timeout: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _users(rest_url: str, n: int, tag: str) -> list[Member]:
    return [Member(user_id, token) for user_id, token in await accounts(rest_url, n, 4, tag)]


async def _create(
    session: aiohttp.ClientSession, rest_url: str, me: Member, body: dict[str, Any]
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {me.token}"}
    async with session.post(f"{rest_url}/chats", json=body, headers=headers) as answer:
        if answer.status not in (200, 201):
            raise RuntimeError(f"POST /chats: {answer.status} {await answer.text()}")
        return await answer.json()


async def _reader(member: Member, read_everything: bool) -> None:
    """Count frames by type; read-receipt every chat message shown (``read_everything``)."""
    assert member.ws is not None
    try:
        async for raw in member.ws:
            frame = json.loads(raw)
            kind = frame.get("type", "?")
            if kind == "ack" and frame.get("action") == "receipt":
                member.receipt_acks += 1
                member.receipts_moved += bool(frame.get("moved"))
                continue
            if kind == "ack" and frame.get("action") == "typing":
                member.typing_acks += 1
                continue
            if kind == "error" and frame.get("code") == "RATE_LIMITED":
                member.typing_refused += 1
                continue
            if kind == "error":
                member.errors.append(frame)
                continue
            member.frames[kind] += 1
            if kind == "message" and frame.get("roomId"):
                member.seen_room_messages.add((frame["roomId"], frame["messageId"]))
                if read_everything and frame.get("userId") != member.user_id:
                    position = {"messageId": frame["messageId"], "timestamp": frame["timestamp"]}
                    for receipt_kind in ("delivered", "read"):
                        member.receipts_sent += 1
                        receipt = {"action": "receipt", "roomId": frame["roomId"]}
                        await member.ws.send(
                            json.dumps({**receipt, "kind": receipt_kind, **position})
                        )
            if kind == "message" and frame.get("chatId"):
                member.seen_seqs.add(frame["seq"])
                if read_everything and frame.get("userId") != member.user_id:
                    member.receipts_sent += 1
                    receipt = {"action": "receipt", "chatId": frame["chatId"], "kind": "read"}
                    await member.ws.send(json.dumps({**receipt, "seq": frame["seq"]}))
    except ConnectionClosed:
        pass


async def _connect_all(ws_url: str, members: list[Member], read_everything: bool) -> list:
    tasks = []
    for member in members:
        member.ws = await connect(f"{ws_url}?token={member.token}", max_size=None, proxy=None)
        tasks.append(asyncio.create_task(_reader(member, read_everything)))
    return tasks


async def _close_all(members: list[Member], tasks: list) -> None:
    for member in members:
        if member.ws is not None:
            await member.ws.close()
    await asyncio.gather(*tasks, return_exceptions=True)


def _partition_records(aws: Aws, partition: str) -> Iterator[dict[str, Any]]:
    """The Chats table's stream records of one partition's items, oldest first."""
    arn = aws.dynamodb.describe_table(TableName=aws.chats_table)["Table"]["LatestStreamArn"]
    streams = aws.streams
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page.get("Records", []):
                if record["dynamodb"]["Keys"]["pk"]["S"] == partition:
                    yield record
            if not page.get("Records"):
                break
            iterator = page.get("NextShardIterator")


def _chat_writes(aws: Aws, chat_id: str) -> Counter[str]:
    """The Chats table's item writes of one chat that changed something, by what changed."""
    writes: Counter[str] = Counter()
    for record in _partition_records(aws, f"chat#{chat_id}"):
        old, new = record["dynamodb"].get("OldImage", {}), record["dynamodb"].get("NewImage", {})
        if record["eventName"] != "MODIFY":
            writes[record["eventName"].lower()] += 1
            continue
        changed = [a for a in ("deliveredSeq", "readSeq", "lastSeq") if old.get(a) != new.get(a)]
        writes["+".join(changed) or "other"] += 1
    return writes


def _figures(
    members: list[Member],
    messages: int,
    everyone: bool,
    acked: bool,
    marker_writes: int,
    bound_writes: int,
    bound_frames: int,
    elapsed: float,
) -> dict[str, Any]:
    """A scenario's counts per message against its bounds, and the verdict on them."""
    frames: Counter[str] = Counter()
    for m in members:
        frames.update(m.frames)
    size = len(members)
    errors = sum(len(m.errors) for m in members)
    within = (
        marker_writes <= bound_writes * messages and frames["receipt"] <= bound_frames * messages
    )
    return {
        "messages": messages,
        "everyone_got_everything": everyone,
        "receipts_sent": sum(m.receipts_sent for m in members),
        "receipts_acked": acked,
        "receipts_that_moved_a_marker": sum(m.receipts_moved for m in members),
        "marker_writes_per_message": round(marker_writes / messages, 2),
        "marker_writes_bound_per_message": bound_writes,
        "message_frames_per_message": round(frames["message"] / messages, 2),
        "receipt_frames_per_message": round(frames["receipt"] / messages, 2),
        "receipt_frames_bound_per_message": bound_frames,
        # Per-message flags told to every member: each of the n - 1 readers to the n - 1 others.
        "naive_frames_per_message": (size - 1) * (size - 1),
        "errors": errors,
        "seconds": round(elapsed, 1),
        "verdict": "PASS" if everyone and acked and errors == 0 and within else "FAIL",
    }


async def _group_scenario(
    name: str,
    urls: dict[str, str],
    size: int,
    messages: int,
    aws: Aws,
) -> dict[str, Any]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        members = await _users(urls["rest_url"], size, name)
        creator, others = members[0], members[1:]
        body = {"type": "group", "name": name, "participants": [m.user_id for m in others]}
        chat = await _create(session, urls["rest_url"], creator, body)
        headers = {"Authorization": f"Bearer {creator.token}"}
        async with session.get(
            f"{urls['rest_url']}/chats/{chat['chatId']}/receipts", headers=headers
        ) as answer:
            live = (await answer.json())["live"]
            live_max = (await answer.json())["liveMax"]
    tasks = await _connect_all(urls["ws_url"], members, read_everything=True)
    started = time.monotonic()
    for n in range(messages):
        sender = members[n % len(members)]
        frame = {"action": "sendMessage", "chatId": chat["chatId"], "message": f"m{n}"}
        assert sender.ws is not None
        await sender.ws.send(json.dumps(frame))
        await asyncio.sleep(SEND_INTERVAL)
    everyone = await _wait_until(lambda: all(len(m.seen_seqs) >= messages for m in members))
    expected_receipts = sum(m.receipts_sent for m in members)
    acked = await _wait_until(lambda: sum(m.receipt_acks for m in members) >= expected_receipts)
    # The delivered markers and receipt frames follow the fan-out: let them settle.
    await asyncio.sleep(2.0)
    elapsed = time.monotonic() - started
    await _close_all(members, tasks)
    writes = _chat_writes(aws, chat["chatId"])
    marker_writes = sum(v for k, v in writes.items() if "deliveredSeq" in k or "readSeq" in k)
    n_others = size - 1
    # Per message, at most: one delivered and one read marker move per other member, and the
    # sender's own read marker (moved with the chat lists' update: one's own messages are read).
    bound_writes = 2 * n_others + 1
    # Within the bound, each of those moves is told to the n - 1 others (one connection each).
    bound_frames = 0 if not live else 2 * n_others * n_others
    return {
        "scenario": name,
        "participants": size,
        "live": live,
        "liveMax": live_max,
        "chat_writes": dict(writes),
        **_figures(
            members, messages, everyone, acked, marker_writes, bound_writes, bound_frames, elapsed
        ),
    }


def _room_marker_writes(aws: Aws, room_id: str) -> Counter[str]:
    """The Chats table's writes of one room's receipt markers that changed something."""
    writes: Counter[str] = Counter()
    for record in _partition_records(aws, f"roomreceipts#{room_id}"):
        old, new = record["dynamodb"].get("OldImage", {}), record["dynamodb"].get("NewImage", {})
        changed = [a for a in ("deliveredPos", "readPos") if old.get(a) != new.get(a)]
        writes["+".join(changed) or record["eventName"].lower()] += 1
    return writes


async def _room_scenario(urls: dict[str, str], size: int, messages: int, aws: Aws) -> dict:
    members = await _users(urls["rest_url"], size, "roomreader")
    room = f"receipts-{int(time.time() * 1000)}"
    tasks = await _connect_all(urls["ws_url"], members, read_everything=True)
    for member in members:
        assert member.ws is not None
        await member.ws.send(json.dumps({"action": "joinRoom", "roomId": room}))
    joined = await _wait_until(lambda: all(m.frames["ack"] >= 1 for m in members))
    started = time.monotonic()
    for n in range(messages):
        sender = members[n % len(members)]
        assert sender.ws is not None
        await sender.ws.send(
            json.dumps({"action": "sendMessage", "roomId": room, "message": f"m{n}"})
        )
        await asyncio.sleep(SEND_INTERVAL)
    everyone = await _wait_until(
        lambda: all(sum(r == room for r, _ in m.seen_room_messages) >= messages for m in members)
    )
    expected_receipts = sum(m.receipts_sent for m in members)
    acked = await _wait_until(lambda: sum(m.receipt_acks for m in members) >= expected_receipts)
    elapsed = time.monotonic() - started
    await _close_all(members, tasks)
    writes = _room_marker_writes(aws, room)
    marker_writes = sum(writes.values())
    bound_writes = 2 * (size - 1)  # one delivered and one read move per other member
    return {
        "scenario": "room",
        "members": size,
        "marker_writes": dict(writes),
        **_figures(
            members, messages, everyone and joined, acked, marker_writes, bound_writes, 0, elapsed
        ),
    }


async def _typing_scenario(
    urls: dict[str, str], pairs: int, every: float, seconds: float, interval_ms: int
) -> dict[str, Any]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        members = await _users(urls["rest_url"], 2 * pairs, "typist")
        chats = []
        for a, b in zip(members[::2], members[1::2], strict=True):
            direct = {"type": "direct", "userId": b.user_id}
            chats.append((a, b, await _create(session, urls["rest_url"], a, direct)))
    tasks = await _connect_all(urls["ws_url"], members, read_everything=False)
    sent = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for a, b, chat in chats:
            for who in (a, b):
                assert who.ws is not None
                frame = {"action": "typing", "chatId": chat["chatId"], "state": "start"}
                await who.ws.send(json.dumps(frame))
                sent += 1
        await asyncio.sleep(every)
    answered = await _wait_until(
        lambda: sum(m.typing_acks + m.typing_refused for m in members) >= sent
    )
    await _wait_until(
        lambda: sum(m.frames["typing"] for m in members) >= sum(m.typing_acks for m in members),
        timeout=10,
    )
    await _close_all(members, tasks)
    admitted = sum(m.typing_acks for m in members)
    delivered = sum(m.frames["typing"] for m in members)
    # Per user and chat: one admitted per interval (and one more at the start).
    bound = len(members) * (int(seconds * 1000 // interval_ms) + 1)
    result = {
        "scenario": "typing",
        "chats": pairs,
        "signals_sent": sent,
        "admitted": admitted,
        "rate_limited": sum(m.typing_refused for m in members),
        "typing_frames_received": delivered,
        "frames_per_admitted_signal": round(delivered / admitted, 2) if admitted else None,
        "admitted_bound": bound,
        "gate_writes_per_signal": 1,
        "errors": sum(len(m.errors) for m in members),
    }
    result["verdict"] = (
        "PASS"
        if answered and admitted <= bound and delivered <= admitted and result["errors"] == 0
        else "FAIL"
    )
    return result


SCENARIOS = ("group", "small", "room", "typing")


async def run(args: argparse.Namespace, urls: dict[str, str], aws: Aws) -> list[dict[str, Any]]:
    """The chosen scenarios (``args.scenarios``), one after the other, on the stage at ``urls``."""
    results = []
    for name in args.scenarios:
        if name == "group":
            results.append(
                await _group_scenario("group", urls, args.group_size, args.messages, aws)
            )
        elif name == "small":
            results.append(
                await _group_scenario("small", urls, args.small_size, args.messages, aws)
            )
        elif name == "room":
            results.append(await _room_scenario(urls, args.room_size, args.messages, aws))
        else:
            results.append(
                await _typing_scenario(
                    urls,
                    args.pairs,
                    args.typing_every,
                    args.typing_seconds,
                    args.typing_interval_ms,
                )
            )
    return results


def _scenarios(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {','.join(SCENARIOS)}")
    return chosen


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--group-size", type=int, default=99)
    parser.add_argument("--small-size", type=int, default=10)
    parser.add_argument("--room-size", type=int, default=100)
    parser.add_argument("--scenarios", type=_scenarios, default=list(SCENARIOS))
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--typing-every", type=float, default=0.3)
    parser.add_argument("--typing-seconds", type=float, default=6.0)
    parser.add_argument("--typing-interval-ms", type=int, default=2000, help="the stage's")
    parser.add_argument("--json", type=Path, help="write the results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name, value in FAKE_AWS.items():
        os.environ.setdefault(name, value)
    # The stage (a child process) and its functions read this: a group of up to 99.
    os.environ.setdefault("CHATSTACK_MAX_GROUP_PARTICIPANTS", str(max(args.group_size, 2)))
    dynamodb_local = DynamoDBLocal("127.0.0.1")
    endpoint = dynamodb_local.start()
    try:
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
        streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
        with running_stage(stage_args=("--dynamodb-endpoint", endpoint)) as urls:
            tables = dynamodb.list_tables()["TableNames"]
            aws = Aws(dynamodb, streams, next(t for t in tables if t.endswith("-chats")))
            results = asyncio.run(run(args, urls, aws))
    finally:
        dynamodb_local.stop()
    command = "python -m benchmarks.receipts_load " + " ".join(argv or sys.argv[1:])
    print(f"# {command}  ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")
    for result in results:
        print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps({"command": command, "results": results}, indent=2))
    return 0 if all(r["verdict"] == "PASS" for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
