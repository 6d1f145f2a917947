"""What follows from the streams for chats (contract v2), beside the broadcast of messages:

- ``ParticipantConnections``: the broadcaster's audience of a chat's message — every open
  connection of every participant, read when the message is fanned out (so one who left no
  longer receives, and one added does);
- ``process_inbox_batch`` (Messages stream → ``chat_inbox``): each new chat message moves the
  chat up in every participant's list, with its preview and unread count;
- ``process_chat_events`` (Chats stream → ``chat_events``): a participant added (a member item
  inserted) gets ``chatAdded`` on every open connection, one who left (removed) ``chatRemoved``.

Each processes its batch in order; a record that cannot be processed is reported as the batch
item failure and processing stops there (records before it are done; those after, retried).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from lambdas.contract.chats import ChatSummary
from lambdas.contract.errors import ChatNotFound
from lambdas.contract.frames import Message, chat_added_frame, chat_removed_frame
from lambdas.domain.chats import ChatStore, summary_from_item
from lambdas.domain.connections import ConnectionStore
from lambdas.domain.fanout import BatchReport, Poster, fan_out_to_users
from lambdas.domain.messages import MESSAGE_KIND, message_from_item
from lambdas.domain.signals import DeliveredMarkers

__all__ = [
    "ParticipantConnections",
    "chat_audience",
    "process_chat_events",
    "process_inbox_batch",
]

log = logging.getLogger("chatstack.chats")
MEMBER_KIND = "member"


class ParticipantConnections:
    """Every open connection of a chat's participants, for the broadcaster: read once per
    stream batch (one object per batch), for a chat's first message there, and reused for its
    later ones — as a room's members are: every message of the batch was written before that
    read, so a connection opened before a message was sent is in it."""

    def __init__(
        self,
        participants: Callable[[str], list[str]],
        connections_of: Callable[[Iterable[str]], dict[str, str]],
        forget: Callable[[str, str], bool | None],
    ) -> None:
        self._participants = participants
        self._connections_of = connections_of
        self._forget = forget
        self.markers = DeliveredMarkers()  # of this batch, moved when it is delivered
        self._read: dict[str, dict[str, str]] = {}

    def connections(self, chat_id: str) -> dict[str, str]:
        audience = self._read.get(chat_id)
        if audience is None:
            participants = self._participants(chat_id)
            audience = self._read[chat_id] = self._connections_of(participants)
            self.markers.seen(chat_id, len(participants), audience)
        return audience

    def forget(self, connection_id: str, user_id: str) -> bool | None:
        """Forget a connection found gone, and leave it out of the rest of the batch."""
        removed = self._forget(connection_id, user_id)
        if removed is not False:
            for audience in self._read.values():
                audience.pop(connection_id, None)
        return removed

    def reached(self, message: Message, user_ids: set[str]) -> None:
        self.markers.reached(message, user_ids)


def chat_audience(
    chats: ChatStore,
    connections: ConnectionStore,
    forget: Callable[[str, str], bool | None] | None = None,
) -> ParticipantConnections:
    """The broadcaster's audience of chats' messages, over the two stores (``forget``: how a
    gone connection is forgotten; ``connections.forget`` by default)."""
    return ParticipantConnections(
        chats.participants, connections.connections_of, forget or connections.forget
    )


def _failed(report: BatchReport, record: dict[str, Any]) -> None:
    report.batch_item_failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})


def process_inbox_batch(records: list[dict[str, Any]], chats: ChatStore) -> BatchReport:
    """Record every new chat message in its chat and its participants' lists (idempotent)."""
    report = BatchReport()
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage") or {}
        if record.get("eventName") != "INSERT" or image.get("kind", {}).get("S") != MESSAGE_KIND:
            continue
        message = message_from_item(image)
        if message.chat_id is None or message.seq is None:
            continue
        try:
            report.delivered += chats.record(message)
        except Exception:
            log.exception("recording message %s in chat lists failed", message.message_id)
            _failed(report, record)
            break
        report.messages += 1
    return report


def _event(record: dict[str, Any]) -> tuple[str, str, str] | None:
    """``(INSERT|REMOVE, chatId, userId)`` of a record about a participant, else None."""
    name = record.get("eventName")
    data = record.get("dynamodb", {})
    image = data.get("NewImage") if name == "INSERT" else data.get("OldImage")
    if name not in ("INSERT", "REMOVE") or not image:
        return None
    if image.get("kind", {}).get("S") != MEMBER_KIND:
        return None
    return name, image["chatId"]["S"], image["userId"]["S"]


def process_chat_events(
    records: list[dict[str, Any]],
    chats: ChatStore,
    connections: ConnectionStore,
    poster: Poster,
    deadline: float | None = None,
) -> BatchReport:
    """Tell each participant added or gone, on every open connection.

    The participation is read again first: a frame never contradicts what the API answers now
    (added then gone at once: no ``chatAdded``; gone then added again: no ``chatRemoved``).
    """
    report = BatchReport()
    for record in records:
        event = _event(record)
        if event is None:
            continue
        name, chat_id, user_id = event
        summary: ChatSummary | None = None
        try:
            with contextlib.suppress(ChatNotFound):  # not (or no longer) a participant
                summary = summary_from_item(chats.member(chat_id, user_id))
            audience = connections.connections_of([user_id])
        except Exception:
            log.exception("reading chat %s for user %s failed", chat_id, user_id)
            _failed(report, record)
            break
        if name == "INSERT" and summary is not None:
            frame = chat_added_frame(summary.to_wire())
        elif name == "REMOVE" and summary is None:
            frame = chat_removed_frame(chat_id)
        else:
            continue
        result = fan_out_to_users(
            frame, audience, poster, connections.forget, deadline, chat_id=chat_id
        )
        report.messages += 1
        report.add(result)
    return report
