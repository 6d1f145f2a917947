"""Receipts, typing and presence (contract v3), bounded so they scale.

- A **receipt** moves one marker with one write, however many messages it covers. Its frame
  goes to the other participants' connections only in chats of at most ``fanout_max``
  participants: a receipt per reader per message to every member would be O(members²) frames
  in a group; above the bound, senders ask for the counts (``GET /chats/{chatId}/receipts``).
- **Delivered** markers are moved by the broadcaster itself, once per (chat, participant) per
  stream batch — the newest message of the batch that reached one of the participant's
  connections — not once per message.
- **Typing** is checked (a participant), rate-limited (``TypingGate``) and fanned out to the
  other participants' connections; it is never stored.
- **Presence** is announced to a user's chat partners (the peers of their direct chats, and the
  participants of their groups of at most ``fanout_max``, over their ``max_chats`` most recent
  chats) when their first connection opens and when their last one closes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lambdas.contract.chats import ChatSummary
from lambdas.contract.errors import RateLimited
from lambdas.contract.frames import Message, encode
from lambdas.contract.receipts import (
    DELIVERED,
    Presence,
    ReceiptRequest,
    TypingRequest,
    presence_frame,
    receipt_frame,
    typing_frame,
)
from lambdas.domain.chats import ChatStore
from lambdas.domain.connections import ConnectionStore, OnOffline
from lambdas.domain.fanout import (
    DeliveryReport,
    Poster,
    deliver_each,
    fan_out_to_users,
    forget_gone,
    log_undelivered,
)
from lambdas.domain.identity import Identity
from lambdas.domain.receipts import ReceiptStore, marker_from_item
from lambdas.domain.typing_gate import TypingGate

__all__ = [
    "DeliveredMarkers",
    "announce_presence",
    "chat_partners",
    "offline_announcer",
    "send_receipt",
    "send_typing",
]

log = logging.getLogger("chatstack.signals")
PARTNER_READERS = 8  # groups' participants read at once when announcing presence


def _others(audience: dict[str, str], user_id: str) -> dict[str, str]:
    return {c: u for c, u in audience.items() if u != user_id}


def _receipt_audience(
    chats: ChatStore, connections: ConnectionStore, chat_id: str, user_id: str, fanout_max: int
) -> dict[str, str]:
    """The connections a receipt of ``user_id`` in ``chat_id`` goes to: the other participants'
    — none when the chat has more than ``fanout_max`` participants."""
    participants = chats.participants(chat_id)
    if len(participants) > fanout_max:
        return {}
    return connections.connections_of(p for p in participants if p != user_id)


def send_receipt(
    receipts: ReceiptStore,
    chats: ChatStore,
    connections: ConnectionStore,
    poster: Poster,
    user_id: str,
    request: ReceiptRequest,
    fanout_max: int,
) -> tuple[dict[str, Any], bool]:
    """Move the user's marker (one write) and, when it moved, tell the other participants of a
    chat within the bound; returns the member item now and whether the marker moved.

    Raises:
        ChatNotFound: no such chat, or the user is not a participant.
        ValidationFailed: ``seq`` is beyond the chat's latest message.
    """
    item, moved = receipts.advance(request.chat_id, user_id, request.kind, request.seq)
    if moved:
        audience = _receipt_audience(chats, connections, request.chat_id, user_id, fanout_max)
        if audience:
            frame = receipt_frame(request.chat_id, marker_from_item(item))
            fan_out_to_users(frame, audience, poster, connections.forget, chat_id=request.chat_id)
    return item, moved


def send_typing(
    chats: ChatStore,
    connections: ConnectionStore,
    gate: TypingGate,
    poster: Poster,
    who: Identity,
    request: TypingRequest,
) -> DeliveryReport:
    """Fan a typing signal out to the other participants' connections (never stored).

    Raises:
        ChatNotFound: no such chat, or the user is not a participant.
        RateLimited: the user sent this signal to this chat less than the interval ago.
    """
    chats.member(request.chat_id, who.user_id)
    if not gate.admit(request.chat_id, who.user_id, request.state):
        raise RateLimited(
            f"at most one typing {request.state!r} per {gate.interval_ms} ms per chat"
        )
    others = [p for p in chats.participants(request.chat_id) if p != who.user_id]
    audience = connections.connections_of(others)
    frame = typing_frame(request.chat_id, who.user_id, who.username, request.state)
    return fan_out_to_users(frame, audience, poster, connections.forget, chat_id=request.chat_id)


@dataclass
class DeliveredMarkers:
    """The broadcaster's delivered markers of one stream batch: for each (chat, participant)
    the newest message that reached one of the participant's connections (the sender left
    out), and each chat's audience as read for its fan-out."""

    newest: dict[tuple[str, str], int] = field(default_factory=dict)
    audiences: dict[str, dict[str, str]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def seen(self, chat_id: str, participants: int, audience: dict[str, str]) -> None:
        self.sizes[chat_id] = participants
        self.audiences[chat_id] = audience

    def reached(self, message: Message, user_ids: set[str]) -> None:
        assert message.chat_id is not None and message.seq is not None
        for user_id in user_ids - {message.user_id}:
            key = (message.chat_id, user_id)
            self.newest[key] = max(self.newest.get(key, 0), message.seq)

    def flush(
        self,
        receipts: ReceiptStore,
        poster: Poster,
        forget: Any,
        fanout_max: int,
        deadline: float | None = None,
    ) -> int:
        """Move every marker (one write each) and tell the chats within the bound; returns how
        many moved. A marker that cannot be written is logged: the message was delivered, and
        the next delivery or the participant's read moves it past."""
        moved = 0
        told: list[tuple[dict[str, str], bytes]] = []  # each moved marker's audience and frame
        for (chat_id, user_id), seq in sorted(self.newest.items()):
            try:
                item, changed = receipts.move(chat_id, user_id, DELIVERED, seq)
            except Exception:
                log.exception("moving the delivered marker of %s in %s failed", user_id, chat_id)
                continue
            if not changed:
                continue
            moved += 1
            if self.sizes.get(chat_id, fanout_max + 1) > fanout_max:
                continue
            audience = _others(self.audiences.get(chat_id, {}), user_id)
            if audience:
                frame = receipt_frame(chat_id, marker_from_item(item))
                told.append((audience, encode(frame).encode("utf-8")))
        # Every receipt frame of the batch at once, each connection's in order.
        jobs = [(sorted(audience), data) for audience, data in told]
        outcomes = deliver_each(poster, jobs, deadline)
        gone: list[tuple[str, str]] = []
        for (audience, _), outcome in zip(told, outcomes, strict=True):
            gone += [(c, audience[c]) for c in outcome.gone]
            log_undelivered(outcome.failed, frame="receipt")
        forget_gone(gone, forget)
        return moved


def chat_partners(
    list_chats: Callable[[str, int, str | None], tuple[list[ChatSummary], str | None]],
    participants: Callable[[str], list[str]],
    user_id: str,
    fanout_max: int,
    max_chats: int,
) -> set[str]:
    """Who hears ``user_id``'s presence: the peers of their direct chats and the participants of
    their groups of at most ``fanout_max``, over their ``max_chats`` most recent chats
    (``list_chats`` and ``participants`` are ``ChatStore``'s)."""
    summaries, _ = list_chats(user_id, max_chats, None)
    partners = {s.peer.user_id for s in summaries if s.peer is not None}
    groups = [s.chat_id for s in summaries if s.peer is None]
    if groups:
        with ThreadPoolExecutor(max_workers=PARTNER_READERS) as pool:
            for found in pool.map(participants, groups):
                if len(found) <= fanout_max:
                    partners.update(found)
    partners.discard(user_id)
    return partners


def announce_presence(
    chats: ChatStore,
    connections: ConnectionStore,
    poster: Poster,
    presence: Presence,
    fanout_max: int,
    max_chats: int,
    username: str | None = None,
) -> DeliveryReport:
    """Tell the user's chat partners, on every open connection, that the user came online or
    went offline. Presence is a courtesy: a failure is logged, never raised (a connection is
    never refused, nor its removal undone, for it)."""
    try:
        partners = chat_partners(
            chats.list_chats, chats.participants, presence.user_id, fanout_max, max_chats
        )
        audience = connections.connections_of(partners) if partners else {}
        if not audience:
            return DeliveryReport()
        frame = presence_frame(presence, username)
        return fan_out_to_users(frame, audience, poster, connections.forget, user=presence.user_id)
    except Exception:
        log.exception("announcing the presence of %s failed", presence.user_id)
        return DeliveryReport()


def offline_announcer(
    chats: ChatStore,
    connections: ConnectionStore,
    poster: Poster,
    fanout_max: int,
    max_chats: int,
) -> OnOffline:
    """The ``on_offline`` of a fan-out's ``forget``/``remove_gone``: a connection it found gone
    (410, no ``$disconnect`` yet) was its user's last, so the user's partners are told the user
    went offline, as ``$disconnect`` would have told them."""
    return functools.partial(
        announce_presence, chats, connections, poster, fanout_max=fanout_max, max_chats=max_chats
    )
