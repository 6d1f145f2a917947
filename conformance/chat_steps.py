"""Steps the checks of contract v2 (profile ``chats``) share: create chats, expect errors, wait.

A stage that refuses a step a check builds on (creating the chat it then tests) fails that
check, with the refusal in the message.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from conformance.client import Peer, Rest, RestAnswer, User

__all__ = [
    "direct_chat",
    "eventually",
    "expect_rest_error",
    "group_chat",
    "listed_chats",
    "nothing_more_from",
    "send_to_chat",
    "unknown_chat_id",
    "unknown_user_id",
]


def unknown_chat_id() -> str:
    """A well-formed chat id no stage has created."""
    return f"conf-nochat-{uuid.uuid4().hex}"


def unknown_user_id() -> str:
    """A well-formed user id that names nobody."""
    return str(uuid.uuid4())


def expect_rest_error(
    answer: RestAnswer, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """Assert ``answer`` is the contract's error; returns its ``error`` object."""
    assert answer.status == status, f"expected {status} {code}, got {answer}"
    error = answer.body.get("error") if isinstance(answer.body, dict) else None
    assert isinstance(error, dict), f"expected an error object, got {answer}"
    assert error.get("code") == code, f"expected code {code}, got {answer}"
    assert isinstance(error.get("message"), str) and error["message"], f"no message: {answer}"
    if field is not None:
        assert error.get("field") == field, f"expected field {field!r}, got {answer}"
    return error


async def direct_chat(rest: Rest, me: User, other: User) -> dict[str, Any]:
    answer = await rest.as_user(me, "POST", "/chats", {"type": "direct", "userId": other.user_id})
    assert answer.status in (200, 201), f"creating a direct chat: expected 201, got {answer}"
    return answer.body


async def group_chat(rest: Rest, me: User, others: list[User], name: str = "team") -> dict:
    body = {"type": "group", "name": name, "participants": [u.user_id for u in others]}
    answer = await rest.as_user(me, "POST", "/chats", body)
    assert answer.status == 201, f"creating a group: expected 201, got {answer}"
    return answer.body


async def send_to_chat(peer: Peer, chat_id: str, text: str, **extra: Any) -> dict[str, Any]:
    """Send to a chat and return the ack (an assertion: sending is what the checks test)."""
    ack = await peer.request({"action": "sendMessage", "chatId": chat_id, "message": text, **extra})
    assert ack.get("type") == "ack" and ack.get("chatId") == chat_id, f"expected an ack: {ack}"
    return ack


async def listed_chats(rest: Rest, who: User, **params: Any) -> dict[str, Any]:
    answer = await rest.as_user(who, "GET", "/chats", params=params or None)
    assert answer.status == 200, f"GET /chats: expected 200, got {answer}"
    return answer.body


async def eventually(
    probe: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool], what: str, timeout: float
) -> Any:
    """Poll ``probe()`` until ``accept`` takes its result; fail after ``timeout`` seconds with
    the last result (for answers the contract lets lag a moment, like the chat list)."""
    deadline = asyncio.get_running_loop().time() + timeout
    delay = 0.05
    while True:
        result = await probe()
        if accept(result):
            return result
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}: {result}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


async def nothing_more_from(peer: Peer, chat_id: str) -> None:
    """After the participants got a message, a round trip and a quiet window prove ``peer``
    got none of the chat."""
    await peer.request({"action": "getMessages", "roomId": "conf-none", "limit": 1})
    leaked = await peer.within_quiet_window(lambda f: f.get("chatId") == chat_id)
    assert not leaked, f"a connection outside the chat received: {leaked}"
