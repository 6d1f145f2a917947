"""The chats scenario's pairing (contract v2): users of one process fill chat slots in the order
they start — a direct chat of two, or a group of ``--group-size`` — and the one who completes a
slot creates its chat for everyone in it.

A direct chat is created by both its users at once (two ``POST /chats``, one per side): the
stage must answer both with the same chat, which the run checks. Pure planning here
(:func:`slot_kinds`); the greenlets wait on :class:`Slot`'s event.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.event import Event

__all__ = ["DIRECT", "GROUP", "ChatSlots", "Slot", "create_chat", "identity_of", "slot_kinds"]

DIRECT, GROUP = "direct", "group"


def slot_kinds(index: int, direct_share: float, group_size: int) -> tuple[str, int]:
    """The kind and size of slot ``index``: a share ``direct_share`` of the slots are direct
    chats (of two), spread evenly; the others groups of ``group_size``."""
    if group_size < 3 or direct_share >= 1:
        return DIRECT, 2
    direct = math.floor((index + 1) * direct_share) > math.floor(index * direct_share)
    return (DIRECT, 2) if direct else (GROUP, group_size)


def identity_of(token: str) -> tuple[str, str]:
    """The (userId, username) a chatstack token names (its claims, read, not verified: the
    stage verifies it)."""
    try:
        claims = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        return str(payload["sub"]), str(payload.get("username", ""))
    except (IndexError, ValueError, KeyError, binascii.Error) as exc:
        raise ValueError(f"not a chatstack token: {exc}") from None


@dataclass
class Slot:
    """One chat to be: its members (the users' objects) and, once created, its id."""

    index: int
    kind: str
    size: int
    members: list[Any] = field(default_factory=list)
    chat_id: str | None = None
    created_at: float | None = None  # wall clock, for the chatAdded latency
    error: str | None = None
    done: Event = field(default_factory=Event)

    @property
    def full(self) -> bool:
        return len(self.members) >= self.size

    @property
    def key(self) -> str | None:
        return f"chat:{self.chat_id}" if self.chat_id else None


class ChatSlots:
    """The slots of one process and run, filled in the order users ask."""

    def __init__(self, direct_share: float, group_size: int, run_id: str = "") -> None:
        self.run_id = run_id
        self.direct_share = direct_share
        self.group_size = group_size
        self.slots: list[Slot] = []

    def take(self, member: Any) -> Slot:
        """Put ``member`` in the open slot (opening one when needed); returns it."""
        if not self.slots or self.slots[-1].full:
            index = len(self.slots)
            kind, size = slot_kinds(index, self.direct_share, self.group_size)
            self.slots.append(Slot(index, kind, size))
        slot = self.slots[-1]
        slot.members.append(member)
        return slot


Post = Callable[[Any, dict[str, Any]], "str | None"]  # (member, body) -> chatId, or None
Report = Callable[[str, float, "str | None"], None]  # (kind, ms, error or None)


def create_chat(slot: Slot, post: Post, name: str, report: Report | None = None) -> None:
    """Create ``slot``'s chat — a direct chat from both sides at once, a group by its last
    member — then let every member in (``member.enter_chat()``) and wake the waiting ones.

    ``post(member, body)`` is ``POST /chats`` as ``member``: the chat's id, or None (it
    reported its failure). Two different ids for one direct chat are ``slot.error``.
    ``report(kind, ms, error)`` hears how the setup of the chat went, once.
    """
    slot.created_at = time.time()
    start = time.perf_counter()
    if slot.kind == DIRECT:
        a, b = slot.members
        sides = [
            gevent.spawn(post, a, {"type": DIRECT, "userId": b.user_id}),
            gevent.spawn(post, b, {"type": DIRECT, "userId": a.user_id}),
        ]
        gevent.joinall(sides)
        ids = {side.value for side in sides}
        if None in ids:
            slot.error = "a side could not create the direct chat"
        elif len(ids) != 1:
            slot.error = f"one pair, two direct chats: {sorted(ids)}"  # type: ignore[type-var]
        else:
            slot.chat_id = ids.pop()
    else:
        owner, *others = reversed(slot.members)
        body = {"type": GROUP, "name": name, "participants": [m.user_id for m in others]}
        slot.chat_id = post(owner, body)
        if slot.chat_id is None:
            slot.error = "the group could not be created"
    if report is not None:
        report(slot.kind, (time.perf_counter() - start) * 1000, slot.error)
    if slot.chat_id is not None:
        for member in slot.members:
            member.enter_chat()
    slot.done.set()
