"""What a check exchanged with the stage — HTTP requests and answers, WebSocket frames — kept for
the report of a check that fails, with tokens, passwords and secrets redacted.

The client (``conformance.client``) records into the trace of the check running in this process
(``current()``; checks of one process run one at a time); outside a check nothing is recorded.
``Redactor`` is pure and applies to every text a report shows: traces, failure messages and
tracebacks.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from typing import Any

__all__ = ["MAX_EVENTS", "MAX_TEXT", "Redactor", "Trace", "begin", "current", "end"]

MAX_EVENTS = 300
MAX_TEXT = 2_000

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_BCRYPT = re.compile(r"\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}")
_TOKEN_PARAM = re.compile(r"((?:token|x-amz-signature|x-amz-security-token)=)[^&\s'\"]+", re.I)
# A presigned upload's policy with its signature is a bearer credential for a few minutes.
_SECRET_KEYS = re.compile(
    r"password|token|secret|authorization|hash|signature|^policy$", re.IGNORECASE
)
_SECRET_FIELD = re.compile(
    r"""(["']?(?:\w*(?:password|secret|hash|signature|policy)\w*)["']?\s*[:=]\s*)(["'])((?:\\.|(?!\2).)*)\2""",
    re.IGNORECASE,
)
REDACTED = "<redacted>"


class Redactor:
    """Removes tokens (JWTs, ``?token=``, presigned URLs' signatures and upload policies),
    bcrypt hashes, password and secret fields, and the
    run's known secrets (the stage's signing key, the passwords the suite used) from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = {s for s in secrets if s and len(s) >= 6}

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 6:
            self.secrets.add(secret)

    def text(self, value: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            value = value.replace(secret, REDACTED)
        value = _TOKEN_PARAM.sub(r"\1" + REDACTED, value)
        value = _JWT.sub("<redacted token>", value)
        value = _BCRYPT.sub("<redacted hash>", value)
        return _SECRET_FIELD.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}{m[2]}", value)

    def data(self, value: Any) -> Any:
        """A JSON-like value with secret-named fields' values and secrets in strings redacted."""
        if isinstance(value, dict):
            return {
                k: REDACTED
                if isinstance(k, str) and _SECRET_KEYS.search(k) and v is not None
                else self.data(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def events(self, events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.data(event) for event in events]


def _clip(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return f"{text[:MAX_TEXT]}… ({len(text):,} characters)"


def _shown(body: Any) -> Any:
    """A body as the report shows it: JSON values as they are, other text clipped."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        return _clip(body)
    try:
        text = json.dumps(body, ensure_ascii=False)
    except (TypeError, ValueError):
        return _clip(repr(body))
    return body if len(text) <= MAX_TEXT else _clip(text)


class Trace:
    """The exchanges of one check, in order, each stamped with seconds since the check began."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.events: list[dict[str, Any]] = []
        self.dropped = 0
        self._peers: dict[int, str] = {}

    def _add(self, kind: str, **fields: Any) -> None:
        if len(self.events) >= MAX_EVENTS:
            self.dropped += 1
            return
        at = round(time.monotonic() - self.started, 3)
        self.events.append({"t": at, "kind": kind, **fields})

    def http(self, method: str, url: str, request: Any, status: int | None, answer: str) -> None:
        self._add(
            "http",
            request=f"{method} {url}",
            body=_shown(request) if request is not None else None,
            status=status,
            answer=_shown(answer),
        )

    def peer(self, peer: object) -> str:
        """A short stable name (``ws1``, ``ws2``, ...) for a connection of this check."""
        return self._peers.setdefault(id(peer), f"ws{len(self._peers) + 1}")

    def ws(self, peer: object, kind: str, data: Any = None) -> None:
        """``kind``: ``open`` (data: the URL), ``send``, ``receive``, ``closed`` (data: code)."""
        self._add(kind, connection=self.peer(peer), data=_shown(data))

    def as_list(self) -> list[dict[str, Any]]:
        if not self.dropped:
            return list(self.events)
        return [*self.events, {"kind": "note", "data": f"{self.dropped} more events not kept"}]


_current: Trace | None = None


def begin() -> Trace:
    """Start the trace of the check about to run in this process."""
    global _current
    _current = Trace()
    return _current


def current() -> Trace | None:
    return _current


def end() -> Trace | None:
    global _current
    trace, _current = _current, None
    return trace
