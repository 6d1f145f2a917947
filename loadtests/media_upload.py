"""The media scenario's upload: ``POST /upload-url``, then the file straight to the storage with
the presigned POST — each measured as Locust requests (``upload-url``, ``upload``)."""

from __future__ import annotations

import struct
import time
import zlib
from typing import Any

import requests

__all__ = ["png_of_size", "upload"]


def png_of_size(size: int) -> bytes:
    """A valid PNG of at least ``size`` bytes (an 8x8 image and a padding text chunk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x00\x80\xff\xff" * 8 for _ in range(8))
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 6, 0, 0, 0))
    image = chunk(b"IDAT", zlib.compress(rows))
    end = chunk(b"IEND", b"")
    padding = max(0, size - len(head) - len(image) - len(end) - 12 - 8)
    return head + chunk(b"tEXt", b"pad\x00" + b"x" * padding) + image + end


def _fire(fire: Any, kind: str, name: str, start: float, length: int, exc: Exception | None):
    fire(
        request_type=kind,
        name=name,
        response_time=(time.perf_counter() - start) * 1000,
        response_length=length,
        exception=exc,
        context={},
    )


def upload(
    session: requests.Session, rest_url: str, token: str, data: bytes, fire: Any
) -> dict[str, Any] | None:
    """Upload ``data`` as a PNG; returns the attachment to declare, or None (reported)."""
    name = "load.png"
    start = time.perf_counter()
    try:
        reply = session.post(
            f"{rest_url.rstrip('/')}/upload-url",
            json={"contentType": "image/png", "size": len(data), "name": name},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        grant = reply.json() if reply.status_code == 200 else None
        error = None if grant else RuntimeError(f"HTTP {reply.status_code}: {reply.text[:200]}")
    except (requests.RequestException, ValueError) as exc:
        grant, error = None, exc
    _fire(fire, "POST", "upload-url", start, 0, error)
    if grant is None:
        return None
    start = time.perf_counter()
    try:
        stored = session.post(
            grant["url"],
            data=grant["fields"],
            files={"file": (name, data, "image/png")},
            timeout=30,
        )
        error = (
            None
            if stored.status_code in (200, 201, 204)
            else RuntimeError(f"HTTP {stored.status_code}: {stored.text[:200]}")
        )
    except requests.RequestException as exc:
        error = exc
    _fire(fire, "S3", "upload", start, len(data), error)
    if error is not None:
        return None
    return {"key": grant["key"], "contentType": "image/png", "size": len(data), "name": name}
