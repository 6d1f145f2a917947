"""A small conversation driven against a stage under faults, as a careful client would: retry
what the contract calls retryable, de-duplicate by ``messageId``, and account for every
acknowledged message — in the history and at every member that stayed connected."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import websockets

from conformance.client import PASSWORD, Peer, Rest, User, unique_email, unique_room

__all__ = ["Conversation", "converse"]

RETRYABLE = {"INTERNAL_ERROR", "GATEWAY_ERROR"}


@dataclass
class Conversation:
    """What happened: acknowledged messages, what each member received, what clients saw."""

    room: str
    acked: dict[str, str] = field(default_factory=dict)  # messageId -> clientMessageId
    received: dict[int, Counter[str]] = field(default_factory=dict)  # member -> messageId counts
    closed: set[int] = field(default_factory=set)  # members the stage closed
    errors: Counter[str] = field(default_factory=Counter)  # codes / statuses clients saw
    history: set[str] = field(default_factory=set)

    def missing(self) -> dict[int, set[str]]:
        """Per member that stayed connected, the acknowledged messages it never received."""
        return {
            member: set(self.acked) - set(counts)
            for member, counts in self.received.items()
            if member not in self.closed and set(self.acked) - set(counts)
        }

    def most_copies(self) -> int:
        return max((max(c.values(), default=0) for c in self.received.values()), default=0)

    def duplicates(self) -> int:
        return sum(n - 1 for c in self.received.values() for n in c.values() if n > 1)


async def _retrying(what: str, attempt: Any, errors: Counter[str], tries: int = 20) -> Any:
    for _ in range(tries):
        try:
            result = await attempt()
        except (RuntimeError, OSError, websockets.InvalidStatus, TimeoutError) as exc:
            errors[f"{what}: {type(exc).__name__}"] += 1
            await asyncio.sleep(0.2)
            continue
        if result is not None:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} failed {tries} times under the faults")


async def _user(rest: Rest, errors: Counter[str]) -> User:
    email = unique_email()

    async def signup_and_login() -> User | None:
        answer = await rest.post("/signup", {"email": email, "password": PASSWORD, "username": "f"})
        if answer.status not in (201, 409):  # 409: an earlier attempt did sign up
            errors[f"signup {answer.status}"] += 1
            return None
        answer = await rest.post("/login", {"email": email, "password": PASSWORD})
        if answer.status != 200:
            errors[f"login {answer.status}"] += 1
            return None
        return User(answer.body["user"]["userId"], email, "f", answer.body["token"])

    return await _retrying("sign in", signup_and_login, errors)


async def _request(peer: Peer, frame: dict[str, Any], errors: Counter[str]) -> dict[str, Any]:
    """Send ``frame`` until it is answered with something other than a retryable error (for up
    to about 30 s: a restarting DynamoDB takes a few)."""
    for attempt in range(40):
        answer = await peer.request(frame)
        if answer.get("type") == "error":
            code = answer.get("code")
        elif "type" not in answer and answer.get("message") == "Internal server error":
            code = "GATEWAY_ERROR"  # API Gateway's own answer to a failed integration
        else:
            return answer
        errors[str(code)] += 1
        if code not in RETRYABLE:
            return answer
        await asyncio.sleep(min(1.0, 0.1 * (attempt + 1)))
    raise AssertionError(f"{frame['action']} kept failing under the faults")


async def converse(
    ws_url: str,
    rest_url: str,
    *,
    members: int = 3,
    messages: int = 12,
    senders: int = 2,
    pace: float = 0.15,
    timeout: float = 60.0,
) -> Conversation:
    """Members join one room, ``senders`` of them send ``messages`` in turn (each with a
    ``clientMessageId``, resent while the answer is retryable); then wait until every member
    still connected has every acknowledged message, and read the room's history."""
    room = unique_room()
    talk = Conversation(room)
    async with aiohttp.ClientSession() as http:
        rest = Rest(http, rest_url, 10.0)
        users = [await _user(rest, talk.errors) for _ in range(members)]

        async def connect(user: User) -> Peer:
            return await Peer.connect(ws_url, user.token, 10.0)

        peers = [await _retrying("connect", lambda u=u: connect(u), talk.errors) for u in users]
        try:
            for peer in peers:
                answer = await _request(peer, {"action": "joinRoom", "roomId": room}, talk.errors)
                assert answer.get("type") == "ack", answer
            for n in range(messages):
                peer = peers[n % senders]
                if peer.socket.close_code is not None:
                    continue
                frame = {
                    "action": "sendMessage",
                    "roomId": room,
                    "message": f"fault test {n}",
                    "clientMessageId": f"c-{n}-{uuid.uuid4().hex[:8]}",
                }
                try:
                    answer = await _request(peer, frame, talk.errors)
                except websockets.ConnectionClosed:
                    continue  # closed by the stage while sending (a lost connection): not acked
                except AssertionError:
                    if peer.socket.close_code is not None:
                        continue  # closed by the stage (a lost connection): never acknowledged
                    raise
                if answer.get("type") == "ack":
                    talk.acked[answer["messageId"]] = frame["clientMessageId"]
                await asyncio.sleep(pace)
            deadline = asyncio.get_running_loop().time() + timeout
            for index in range(members):
                talk.received[index] = Counter()
            while True:
                for index, peer in enumerate(peers):
                    for frame in peer.drain(lambda f: f.get("roomId") == room):
                        talk.received[index][frame["messageId"]] += 1
                    if peer.socket.close_code is not None:
                        talk.closed.add(index)
                if not talk.missing() or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # late copies of a message count as duplicates too
            for index, peer in enumerate(peers):
                for frame in peer.drain(lambda f: f.get("roomId") == room):
                    talk.received[index][frame["messageId"]] += 1
            reader = next(p for i, p in enumerate(peers) if i not in talk.closed)
            before = None
            while True:
                page: dict[str, Any] = {"action": "getMessages", "roomId": room, "limit": 100}
                if before:
                    page["before"] = before
                answer = await _request(reader, page, talk.errors)
                talk.history |= {m["messageId"] for m in answer["messages"]}
                before = answer.get("nextBefore")
                if not before:
                    break
        finally:
            for peer in peers:
                await peer.close()
    return talk
