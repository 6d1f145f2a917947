"""Steps of the media profile's checks: an upload grant, the upload itself (a browser's
multipart POST to the storage), a download — over plain HTTP, as a browser makes them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from conformance import trace
from conformance.client import Peer, Rest, User
from conformance.errors import PreconditionFailed

__all__ = [
    "PNG",
    "Fetched",
    "Grant",
    "attach",
    "download_url",
    "fetch",
    "grant",
    "upload",
    "uploaded",
]

# A 1x1 red PNG: a real image of an accepted type.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)


@dataclass(frozen=True)
class Grant:
    """An answer of ``POST /upload-url``: POST ``fields`` then the file to ``url``."""

    key: str
    url: str
    fields: dict[str, str]
    expires_at: int
    raw: dict[str, Any]


@dataclass(frozen=True)
class Fetched:
    status: int
    body: bytes
    headers: Any


async def grant(rest: Rest, who: User, content_type: str, size: int, name: str) -> Grant:
    """A presigned upload for ``who`` (a precondition: anything but a well-formed 200 is a
    harness error of the check standing on it)."""
    answer = await rest.as_user(
        who, "POST", "/upload-url", {"contentType": content_type, "size": size, "name": name}
    )
    body = answer.body if isinstance(answer.body, dict) else {}
    try:
        return Grant(
            str(body["key"]), str(body["url"]), dict(body["fields"]), int(body["expiresAt"]), body
        )
    except (KeyError, TypeError, ValueError):
        raise PreconditionFailed(f"precondition: POST /upload-url: {answer}") from None


async def upload(
    http: aiohttp.ClientSession,
    grant: Grant,
    data: bytes,
    *,
    fields: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> Fetched:
    """POST the grant's form (``fields`` replace some) and then the file, as a browser does."""
    form = aiohttp.FormData()
    for name, value in {**grant.fields, **(fields or {})}.items():
        form.add_field(name, value)
    form.add_field("file", data, filename="upload", content_type="application/octet-stream")
    return await fetch(http, "POST", grant.url, data=form, timeout=timeout)


async def fetch(
    http: aiohttp.ClientSession, method: str, url: str, *, timeout: float = 20.0, **kwargs: Any
) -> Fetched:
    recorder = trace.current()
    async with http.request(
        method, url, timeout=aiohttp.ClientTimeout(total=timeout), **kwargs
    ) as response:
        body = await response.read()
    if recorder:
        shown = body[:300].decode("utf-8", "replace")
        recorder.http(method, url.split("?")[0] + "?…", None, response.status, shown)
    return Fetched(response.status, body, response.headers)


async def uploaded(
    rest: Rest,
    http: aiohttp.ClientSession,
    who: User,
    data: bytes = PNG,
    content_type: str = "image/png",
    name: str = "pixel.png",
) -> dict[str, Any]:
    """Upload ``data`` for ``who``; returns the attachment to declare in ``sendMessage``
    (a precondition)."""
    given = await grant(rest, who, content_type, len(data), name)
    stored = await upload(http, given, data)
    if stored.status not in (200, 201, 204):
        raise PreconditionFailed(
            f"precondition: an upload within its policy was refused: HTTP {stored.status} "
            f"{stored.body[:300]!r}"
        )
    return {"key": given.key, "contentType": content_type, "size": len(data), "name": name}


async def attach(
    peer: Peer, room: str, attachments: list[dict], text: str | None = None
) -> dict[str, Any]:
    """Send a message carrying ``attachments`` to ``room``; returns the answer frame."""
    frame: dict[str, Any] = {"action": "sendMessage", "roomId": room, "attachments": attachments}
    if text is not None:
        frame["message"] = text
    return await peer.request(frame)


async def download_url(peer: Peer, room: str, key: str) -> dict[str, Any]:
    """The answer to ``getAttachmentUrl`` (an ack with ``url``, or an error frame)."""
    return await peer.request({"action": "getAttachmentUrl", "roomId": room, "key": key})


def seconds_until(epoch_ms: int) -> float:
    return epoch_ms / 1000 - time.time()
