"""Input validation: raw JSON text or dicts in, typed requests out, ``ChatError`` otherwise."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from lambdas.contract.errors import InvalidJson, UnknownAction, ValidationFailed
from lambdas.contract.media import (
    Attachment,
    AttachmentUrlRequest,
    attachment_key_of,
    parse_attachments,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_HISTORY_LIMIT",
    "MAX_HISTORY_LIMIT",
    "MAX_MESSAGE_CHARS",
    "HistoryRequest",
    "LoginRequest",
    "RoomRequest",
    "SendRequest",
    "SignupRequest",
    "chat_id_of",
    "email_identity",
    "history_page",
    "identifier_of",
    "is_text",
    "parse_action",
    "parse_attachment_url",
    "parse_history",
    "parse_json_object",
    "parse_login",
    "parse_room",
    "parse_send",
    "parse_signup",
    "room_id_of",
]

ACTIONS = (
    "sendMessage",
    "getMessages",
    "joinRoom",
    "leaveRoom",
    "receipt",
    "typing",
    "getAttachmentUrl",
)
MAX_EMAIL_CHARS = 254
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (bcrypt 5 refuses) anything longer
MAX_USERNAME_CHARS = 32
MAX_MESSAGE_CHARS = 4000
DEFAULT_HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 100

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # room, chat and message ids
_CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_CURSOR = re.compile(r"[0-9]{13}#[0-9a-f-]{36}")


@dataclass(frozen=True)
class SignupRequest:
    email: str
    password: str
    username: str


@dataclass(frozen=True)
class LoginRequest:
    email: str
    password: str


@dataclass(frozen=True)
class RoomRequest:
    room_id: str


@dataclass(frozen=True)
class SendRequest:
    """To a room (``room_id``) or, contract v2, to a chat (``chat_id``): exactly one is set."""

    room_id: str | None
    message: str
    client_message_id: str | None
    chat_id: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class HistoryRequest:
    """Of a room (``room_id``) or, contract v2, of a chat (``chat_id``): exactly one is set."""

    room_id: str | None
    limit: int
    before: str | None
    chat_id: str | None = None


def parse_json_object(text: str | bytes | None) -> dict[str, Any]:
    """Parse a request body or frame that must be a JSON object.

    Raises:
        InvalidJson: empty, not JSON, or JSON but not an object.
    """
    if not text:
        raise InvalidJson("body is empty; expected a JSON object")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise InvalidJson("body is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidJson("body must be a JSON object")
    return value


def _string(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        raise ValidationFailed(f"{field} is required", field=field)
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string", field=field)
    return value


def _text(body: dict[str, Any], field: str) -> str:
    """A string that can be stored: valid Unicode (JSON allows lone surrogates like \\ud800)."""
    value = _string(body, field)
    if not is_text(value):
        raise ValidationFailed(f"{field} must be valid Unicode text", field=field)
    return value


def is_text(value: str) -> bool:
    """Whether ``value`` is valid Unicode text (no lone surrogates): it can be stored."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def email_identity(email: str) -> str:
    """What makes two e-mail addresses the same account: Unicode caseless matching with
    compatibility normalisation (NFKC, case folding, NFKC again; Unicode §3.13), after trimming.

    Look-alikes are one address: fullwidth ``ａｄａ@example.com`` is ``ada@example.com``, and
    ``Straße@…`` is ``STRASSE@…``. Refusing a rare genuine twin (a mailbox ``strasse`` next to
    ``straße`` on one domain) is the price of never letting a look-alike take a second account.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).casefold())
    return folded.strip()


def _email(body: dict[str, Any]) -> str:
    email = _text(body, "email").strip()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.fullmatch(email):
        raise ValidationFailed("email is not a valid e-mail address", field="email")
    return email


def parse_signup(body: dict[str, Any]) -> SignupRequest:
    """Validate a ``POST /signup`` body."""
    email = _email(body)
    password = _text(body, "password")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationFailed(
            f"password must be at least {MIN_PASSWORD_CHARS} characters", field="password"
        )
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValidationFailed(
            f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8", field="password"
        )
    username = _text(body, "username")
    if not 1 <= len(username) <= MAX_USERNAME_CHARS or not username.isprintable():
        raise ValidationFailed(
            f"username must be 1-{MAX_USERNAME_CHARS} printable characters", field="username"
        )
    if not username.strip():
        raise ValidationFailed("username must not be blank", field="username")
    return SignupRequest(email=email, password=password, username=username)


def parse_login(body: dict[str, Any]) -> LoginRequest:
    """Validate a ``POST /login`` body (presence and type only: wrong values are a 401)."""
    email = _string(body, "email").strip()
    password = _string(body, "password")
    return LoginRequest(email=email, password=password)


def parse_action(frame: dict[str, Any]) -> str:
    """The frame's ``action``, which must be one the API routes.

    Raises:
        UnknownAction: missing, not a string, or not a known action.
    """
    action = frame.get("action")
    if action is None:
        raise UnknownAction("frame has no action; expected one of " + ", ".join(ACTIONS))
    if not isinstance(action, str) or action not in ACTIONS:
        shown = action if isinstance(action, str) else type(action).__name__
        raise UnknownAction(f"unknown action {shown[:64]!r}; expected one of " + ", ".join(ACTIONS))
    return action


def _room_id(frame: dict[str, Any]) -> str:
    return room_id_of(frame.get("roomId"))


def identifier_of(value: Any, field: str) -> str:
    """An id as a client names one (a room's, a chat's, a message's): 1-64 characters of
    ``A-Z a-z 0-9 _ -``."""
    if value is None:
        raise ValidationFailed(f"{field} is required", field=field)
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string", field=field)
    if not _ID.fullmatch(value):
        raise ValidationFailed(f"{field} must be 1-64 characters of A-Z a-z 0-9 _ -", field=field)
    return value


def room_id_of(value: Any, field: str = "roomId") -> str:
    """A room id as a client names one."""
    return identifier_of(value, field)


def chat_id_of(value: Any, field: str = "chatId") -> str:
    """A chat id as a client names one."""
    return identifier_of(value, field)


def _target(frame: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(roomId, None)`` or, contract v2, ``(None, chatId)``: a frame names exactly one."""
    if frame.get("chatId") is None:
        return _room_id(frame), None
    if frame.get("roomId") is not None:
        raise ValidationFailed("give roomId or chatId, not both", field="chatId")
    return None, chat_id_of(frame["chatId"])


def parse_attachment_url(frame: dict[str, Any]) -> AttachmentUrlRequest:
    """Validate a ``getAttachmentUrl`` frame (a file of a room, or of a chat)."""
    room_id, chat_id = _target(frame)
    return AttachmentUrlRequest(
        room_id=room_id, key=attachment_key_of(frame.get("key")), chat_id=chat_id
    )


def parse_room(frame: dict[str, Any]) -> RoomRequest:
    """Validate a ``joinRoom`` or ``leaveRoom`` frame."""
    return RoomRequest(room_id=_room_id(frame))


def parse_send(frame: dict[str, Any]) -> SendRequest:
    """Validate a ``sendMessage`` frame (to a room, or to a chat)."""
    room_id, chat_id = _target(frame)
    attachments = parse_attachments(frame)
    # With attachments the text is optional (absent or empty); without, it is the message.
    message = "" if attachments and frame.get("message") is None else _text(frame, "message")
    if not (0 if attachments else 1) <= len(message) <= MAX_MESSAGE_CHARS:
        raise ValidationFailed(f"message must be 1-{MAX_MESSAGE_CHARS} characters", field="message")
    client_message_id = frame.get("clientMessageId")
    if client_message_id is not None and (
        not isinstance(client_message_id, str)
        or not _CLIENT_MESSAGE_ID.fullmatch(client_message_id)
    ):
        raise ValidationFailed(
            "clientMessageId must be 1-64 characters of A-Z a-z 0-9 _ - . :",
            field="clientMessageId",
        )
    return SendRequest(
        room_id=room_id,
        message=message,
        client_message_id=client_message_id,
        chat_id=chat_id,
        attachments=attachments,
    )


def parse_history(frame: dict[str, Any]) -> HistoryRequest:
    """Validate a ``getMessages`` frame (of a room, or of a chat)."""
    room_id, chat_id = _target(frame)
    limit, before = history_page(frame)
    return HistoryRequest(room_id=room_id, limit=limit, before=before, chat_id=chat_id)


def history_page(values: dict[str, Any]) -> tuple[int, str | None]:
    """``limit`` and ``before`` of a history page (a frame, or a REST query as integers)."""
    limit = values.get("limit", DEFAULT_HISTORY_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise ValidationFailed(
            f"limit must be an integer from 1 to {MAX_HISTORY_LIMIT}", field="limit"
        )
    before = values.get("before")
    if before is not None and (not isinstance(before, str) or not _CURSOR.fullmatch(before)):
        raise ValidationFailed("before must be a cursor returned as nextBefore", field="before")
    return limit, before
