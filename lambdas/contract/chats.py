"""Contract v2 (profile ``chats``): the REST requests of chats, people and rooms, and the chat
objects the API answers with. Pure code: dicts and query strings in, typed values out.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from lambdas.contract.errors import TooManyParticipants, ValidationFailed
from lambdas.contract.validation import chat_id_of

__all__ = [
    "DEFAULT_PAGE_LIMIT",
    "DIRECT",
    "GROUP",
    "MAX_GROUP_NAME_CHARS",
    "MAX_ID_LIST",
    "MAX_PAGE_LIMIT",
    "MAX_PREFIX_CHARS",
    "PREVIEW_CHARS",
    "AddParticipantsRequest",
    "ChatDetail",
    "ChatSummary",
    "DirectChatRequest",
    "GroupChatRequest",
    "LastMessage",
    "Page",
    "Person",
    "check_chat_id",
    "decode_cursor",
    "encode_cursor",
    "history_query",
    "inbox_cursor",
    "parse_add_participants",
    "parse_create_chat",
    "parse_mark_read",
    "parse_page",
    "parse_prefix",
    "parse_room_prefix",
]

DIRECT, GROUP = "direct", "group"
MAX_GROUP_NAME_CHARS = 64
MAX_ID_LIST = 200  # ids in one request: far above any group size, bounds the work per request
DEFAULT_PAGE_LIMIT = 20
MAX_PAGE_LIMIT = 50
MAX_PREFIX_CHARS = 64
MAX_CURSOR_BYTES = 512
PREVIEW_CHARS = 200  # of the last message, in a chat list

_USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INBOX_POSITION = re.compile(r"[0-9]{13}#[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Person:
    """Who a user is to other users: an id and a name, never an e-mail address."""

    user_id: str
    username: str

    def to_wire(self) -> dict[str, str]:
        return {"userId": self.user_id, "username": self.username}


@dataclass(frozen=True)
class LastMessage:
    """The latest message of a chat, as its chat list shows it (``preview``: the first 200
    characters of the text)."""

    message_id: str
    user_id: str
    username: str
    preview: str
    timestamp: int
    seq: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "userId": self.user_id,
            "username": self.username,
            "preview": self.preview,
            "timestamp": self.timestamp,
            "seq": self.seq,
        }


@dataclass(frozen=True)
class ChatSummary:
    """A chat as one participant sees it in their list: ``peer`` is the other user of a direct
    chat; ``last_seq``/``read_seq`` are the chat's latest message and this user's read marker."""

    chat_id: str
    type: str
    name: str | None
    peer: Person | None
    created_at: int
    last_activity: int
    last_message: LastMessage | None
    last_seq: int
    read_seq: int

    @property
    def unread_count(self) -> int:
        return max(0, self.last_seq - self.read_seq)

    def to_wire(self) -> dict[str, Any]:
        return {
            "chatId": self.chat_id,
            "type": self.type,
            "name": self.name,
            "peer": self.peer.to_wire() if self.peer else None,
            "createdAt": self.created_at,
            "lastActivity": self.last_activity,
            "lastMessage": self.last_message.to_wire() if self.last_message else None,
            "lastSeq": self.last_seq,
            "readSeq": self.read_seq,
            "unreadCount": self.unread_count,
        }


@dataclass(frozen=True)
class ChatDetail:
    """A chat with its participants (sorted by username)."""

    summary: ChatSummary
    participants: tuple[Person, ...] = field(default=())

    def to_wire(self) -> dict[str, Any]:
        return {**self.summary.to_wire(), "participants": [p.to_wire() for p in self.participants]}


@dataclass(frozen=True)
class DirectChatRequest:
    user_id: str


@dataclass(frozen=True)
class GroupChatRequest:
    name: str
    participants: tuple[str, ...]  # the others: distinct, without the creator


@dataclass(frozen=True)
class AddParticipantsRequest:
    user_ids: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    limit: int
    cursor: str | None  # decoded


def _user_id(value: Any, name: str) -> str:
    if value is None:
        raise ValidationFailed(f"{name} is required", field=name)
    if not isinstance(value, str) or not _USER_ID.fullmatch(value):
        raise ValidationFailed(f"{name} must be a user id", field=name)
    return value


def _user_ids(body: dict[str, Any], name: str, caller: str) -> tuple[str, ...]:
    """A list of user ids: in order, without repeats and without the caller."""
    value = body.get(name)
    if not isinstance(value, list):
        raise ValidationFailed(f"{name} must be a list of user ids", field=name)
    if len(value) > MAX_ID_LIST:
        raise ValidationFailed(f"{name} may list at most {MAX_ID_LIST} user ids", field=name)
    ids = [_user_id(item, name) for item in value]
    return tuple(dict.fromkeys(i for i in ids if i != caller))


def _bounded(others: tuple[str, ...], name: str, max_participants: int) -> None:
    if len(others) > max_participants - 1:
        raise TooManyParticipants(
            f"a group has at most {max_participants} participants, its creator included"
        )
    if not others:
        raise ValidationFailed(f"{name} must name at least one other user", field=name)


def _group_name(body: dict[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str):
        raise ValidationFailed("name must be a string", field="name")
    if not 1 <= len(name) <= MAX_GROUP_NAME_CHARS or not name.isprintable() or not name.strip():
        raise ValidationFailed(
            f"name must be 1-{MAX_GROUP_NAME_CHARS} printable characters, not blank", field="name"
        )
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed("name must be valid Unicode text", field="name") from None
    return name


def parse_create_chat(
    body: dict[str, Any], caller: str, max_participants: int
) -> DirectChatRequest | GroupChatRequest:
    """Validate a ``POST /chats`` body.

    Raises:
        ValidationFailed: a field is missing, malformed, or a direct chat names the caller.
        TooManyParticipants: a group would have more than ``max_participants`` (checked before
            any user is looked up).
    """
    kind = body.get("type")
    if kind == DIRECT:
        user_id = _user_id(body.get("userId"), "userId")
        if user_id == caller:
            raise ValidationFailed("a direct chat needs another user than you", field="userId")
        return DirectChatRequest(user_id)
    if kind == GROUP:
        name = _group_name(body)
        others = _user_ids(body, "participants", caller)
        _bounded(others, "participants", max_participants)
        return GroupChatRequest(name, others)
    raise ValidationFailed('type must be "direct" or "group"', field="type")


def parse_add_participants(
    body: dict[str, Any], caller: str, max_participants: int
) -> AddParticipantsRequest:
    """Validate a ``POST /chats/{chatId}/participants`` body: ``{"userIds": [...]}``."""
    ids = _user_ids(body, "userIds", caller)
    if not ids:
        raise ValidationFailed("userIds must name at least one other user", field="userIds")
    if len(ids) > max_participants - 1:
        raise TooManyParticipants(f"a group has at most {max_participants} participants")
    return AddParticipantsRequest(ids)


def parse_mark_read(body: dict[str, Any]) -> int:
    """Validate a ``POST /chats/{chatId}/read`` body: ``{"seq": int >= 0}``."""
    seq = body.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**53:
        raise ValidationFailed("seq must be a non-negative integer", field="seq")
    return seq


def encode_cursor(position: str) -> str:
    """An opaque paging cursor for ``position`` (a sort key)."""
    return base64.urlsafe_b64encode(position.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The position an ``encode_cursor`` cursor names.

    Raises:
        ValidationFailed: not a cursor this API returned.
    """
    refused = ValidationFailed("cursor must be a nextCursor returned by this API", field="cursor")
    if len(cursor) > MAX_CURSOR_BYTES or not re.fullmatch(r"[A-Za-z0-9_-]+", cursor):
        raise refused
    try:
        position = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        raise refused from None
    if not position:
        raise refused
    return position


def inbox_cursor(page: Page) -> str | None:
    """The decoded cursor of a chat list page, which names a place in the list.

    Raises:
        ValidationFailed: the cursor is not one a chat list returned.
    """
    if page.cursor is not None and not _INBOX_POSITION.fullmatch(page.cursor):
        raise ValidationFailed("cursor must be a nextCursor returned by GET /chats", field="cursor")
    return page.cursor


def _query_int(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not low <= int(raw) <= high:
        raise ValidationFailed(f"{name} must be an integer from {low} to {high}", field=name)
    return int(raw)


def parse_page(query: dict[str, str]) -> Page:
    """``limit`` (1-50, default 20) and ``cursor`` (a ``nextCursor``) of a listing."""
    limit = _query_int(query, "limit", DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT)
    cursor = query.get("cursor")
    return Page(limit, decode_cursor(cursor) if cursor is not None else None)


def parse_prefix(query: dict[str, str], *, required: bool) -> str:
    """The ``prefix`` of a search: up to 64 characters (at least one when ``required``)."""
    prefix = query.get("prefix")
    if prefix is None or prefix == "":
        if required:
            raise ValidationFailed("prefix is required (1-64 characters)", field="prefix")
        return ""
    if len(prefix) > MAX_PREFIX_CHARS or not prefix.isprintable():
        raise ValidationFailed(
            f"prefix must be 1-{MAX_PREFIX_CHARS} printable characters", field="prefix"
        )
    return prefix


def parse_room_prefix(query: dict[str, str]) -> str:
    """The optional ``prefix`` of a room directory search: 0-64 characters a room id may have."""
    prefix = query.get("prefix") or ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{0,64}", prefix):
        raise ValidationFailed(
            "prefix must be up to 64 characters of A-Z a-z 0-9 _ -", field="prefix"
        )
    return prefix


def history_query(query: dict[str, str]) -> dict[str, Any]:
    """A REST history query (``limit``, ``before``) as the values ``history_page`` checks."""
    values: dict[str, Any] = {}
    if "limit" in query:
        raw = query["limit"]
        values["limit"] = int(raw) if re.fullmatch(r"[0-9]{1,6}", raw) else raw
    if "before" in query:
        values["before"] = query["before"]
    return values


def check_chat_id(path: dict[str, str]) -> str:
    """The ``{chatId}`` of a REST path."""
    return chat_id_of(path.get("chatId"))
