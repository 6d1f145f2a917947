"""Media messages (profile ``media``): upload requests, attachments, download answers. Pure code.

An upload is one object under its owner's prefix, ``uploads/{userId}/{32 hex digits}``: the
storage's own policy (a presigned POST) fixes its key, its content type and its size, so what
``sendMessage`` later declares can be checked against what is stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lambdas.contract.errors import FileTooLarge, UnsupportedMediaType, ValidationFailed

__all__ = [
    "DEFAULT_CONTENT_TYPES",
    "DEFAULT_MAX_BYTES",
    "INLINE_TYPES",
    "MAX_ATTACHMENTS",
    "MAX_NAME_CHARS",
    "UPLOAD_PREFIX",
    "Attachment",
    "AttachmentUrlRequest",
    "MediaPolicy",
    "UploadRequest",
    "attachment_from_wire",
    "attachment_key_of",
    "content_disposition",
    "is_inline",
    "owner_prefix",
    "parse_attachments",
    "parse_content_types",
    "parse_upload",
    "upload_key",
]

UPLOAD_PREFIX = "uploads/"
# Common images, PDF and plain text; ``CHATSTACK_MEDIA_CONTENT_TYPES`` sets another list.
DEFAULT_CONTENT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
)
# Raster images are shown inline; anything else (SVG and HTML included, should a stage allow
# them) downloads as an attachment, so an uploaded file never renders as a page.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 10
MAX_NAME_CHARS = 255

_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_KEY = re.compile(r"uploads/([A-Za-z0-9_-]{1,64})/[0-9a-f]{32}")


@dataclass(frozen=True)
class MediaPolicy:
    """What a stage accepts: the content types (lower case, no parameters) and the largest file."""

    content_types: tuple[str, ...] = DEFAULT_CONTENT_TYPES
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class Attachment:
    """One uploaded file a message carries, as its sender declared it (and the storage holds)."""

    key: str
    content_type: str
    size: int
    name: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "contentType": self.content_type,
            "size": self.size,
            "name": self.name,
        }


@dataclass(frozen=True)
class UploadRequest:
    content_type: str
    size: int
    name: str


@dataclass(frozen=True)
class AttachmentUrlRequest:
    """A ``getAttachmentUrl`` of a file posted in a room, or (contract v2) in a chat."""

    room_id: str | None
    key: str
    chat_id: str | None = None


def owner_prefix(user_id: str) -> str:
    """The prefix every upload of ``user_id`` lies under."""
    return f"{UPLOAD_PREFIX}{user_id}/"


def upload_key(user_id: str, upload_id: str) -> str:
    """The key of one upload (``upload_id``: 32 hex digits)."""
    return f"{owner_prefix(user_id)}{upload_id}"


def is_inline(content_type: str) -> bool:
    """Whether a file of ``content_type`` is shown in the page (a raster image)."""
    return content_type in INLINE_TYPES


def content_disposition(attachment: Attachment) -> str:
    """``inline`` for a raster image; else ``attachment`` with the declared name (RFC 6266:
    an ASCII fallback, and the name itself in UTF-8)."""
    if is_inline(attachment.content_type):
        return "inline"
    fallback = "".join(
        c if 0x20 <= ord(c) < 0x7F and c not in '"\\%' else "_" for c in attachment.name
    )
    return (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(attachment.name, safe='')}"
    )


# -- parsing ---------------------------------------------------------------------------------


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed(f"{field} must be valid Unicode text", field=field) from None
    if not 1 <= len(value) <= MAX_NAME_CHARS or not value.isprintable() or not value.strip():
        raise ValidationFailed(
            f"{field} must be 1-{MAX_NAME_CHARS} printable characters, not blank", field=field
        )
    return unicodedata.normalize("NFC", value)


def _size(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationFailed(f"{field} must be a whole number of bytes, at least 1", field=field)
    return value


def _content_type(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string", field=field)
    normalized = value.strip().lower()
    if not _CONTENT_TYPE.fullmatch(normalized):
        raise ValidationFailed(
            f"{field} must be a media type such as image/png (no parameters)", field=field
        )
    return normalized


def parse_upload(body: dict[str, Any], policy: MediaPolicy) -> UploadRequest:
    """Validate a ``POST /upload-url`` body against the stage's media policy.

    Raises:
        ValidationFailed: a field is missing or malformed.
        UnsupportedMediaType: the content type is not one the stage accepts.
        FileTooLarge: the size is above the stage's limit.
    """
    for field in ("contentType", "size", "name"):
        if body.get(field) is None:
            raise ValidationFailed(f"{field} is required", field=field)
    content_type = _content_type(body["contentType"], "contentType")
    size = _size(body["size"], "size")
    name = _name(body["name"], "name")
    if content_type not in policy.content_types:
        raise UnsupportedMediaType(
            f"files of type {content_type} are not accepted; accepted: "
            + ", ".join(policy.content_types),
            field="contentType",
        )
    if size > policy.max_bytes:
        raise FileTooLarge(
            f"the file is {size} bytes; the largest accepted is {policy.max_bytes} bytes",
            field="size",
        )
    return UploadRequest(content_type=content_type, size=size, name=name)


def attachment_from_wire(entry: Any, index: int) -> Attachment:
    """One attachment of a ``sendMessage`` frame (``field`` names the list on any fault)."""
    field = "attachments"
    where = f"attachments[{index}]"
    if not isinstance(entry, dict):
        raise ValidationFailed(f"{where} must be an object", field=field)
    for name in ("key", "contentType", "size", "name"):
        if entry.get(name) is None:
            raise ValidationFailed(f"{where}.{name} is required", field=field)
    key = entry["key"]
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValidationFailed(
            f"{where}.key must be a key returned by POST /upload-url", field=field
        )
    try:
        content_type = _content_type(entry["contentType"], field)
        size = _size(entry["size"], field)
        name = _name(entry["name"], field)
    except ValidationFailed as refused:
        raise ValidationFailed(f"{where}: {refused.message}", field=field) from None
    return Attachment(key=key, content_type=content_type, size=size, name=name)


def parse_attachments(frame: dict[str, Any]) -> tuple[Attachment, ...]:
    """The optional ``attachments`` of a ``sendMessage`` frame: 1-10 distinct uploads."""
    raw = frame.get("attachments")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ATTACHMENTS:
        raise ValidationFailed(
            f"attachments must be a list of 1-{MAX_ATTACHMENTS} attachments", field="attachments"
        )
    attachments = tuple(attachment_from_wire(entry, i) for i, entry in enumerate(raw))
    if len({a.key for a in attachments}) != len(attachments):
        raise ValidationFailed("attachments must not repeat a key", field="attachments")
    return attachments


def attachment_key_of(value: Any) -> str:
    """The ``key`` of a ``getAttachmentUrl`` frame: a key ``POST /upload-url`` hands out."""
    if value is None:
        raise ValidationFailed("key is required", field="key")
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise ValidationFailed("key must be the key of an attachment", field="key")
    return value


def parse_content_types(names: Iterable[str]) -> tuple[str, ...]:
    """A configured list of content types, normalised (for ``lambdas.settings``).

    Raises:
        ValueError: an entry is not a media type.
    """
    types = tuple(dict.fromkeys(n.strip().lower() for n in names if n.strip()))
    for name in types:
        if not _CONTENT_TYPE.fullmatch(name):
            raise ValueError(f"{name!r} is not a media type such as image/png")
    if not types:
        raise ValueError("at least one content type is needed")
    return types
