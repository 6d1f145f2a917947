"""The expected-failures list (``--expect-fail FILE``): checks a team knows its stage fails.

One check per line, its ID then the reason; blank lines and ``#`` comments are ignored::

    # stage: prod-eu — reviewed 2026-11-30
    SEC-006    the authorizer caches tokens for 5 minutes (OPS-123)
    LAT-002    connect p95 is 450 ms behind the corporate proxy

Listed checks still run: one that fails is reported as an expected failure (the run passes), one
that passes is reported as unexpectedly passing, so the list can shrink (it fails the run only
with ``--strict``). A harness error stays an error.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["ExpectationError", "parse_expectations", "read_expectations"]

_LINE = re.compile(r"(?P<id>[A-Z]+-\d{3})\s+(?P<reason>\S.*)")


class ExpectationError(ValueError):
    """The expected-failures list cannot be used (a usage error of the run)."""


def parse_expectations(text: str, source: str = "the expected-failures list") -> dict[str, str]:
    """``{check ID: reason}`` from the file's text."""
    expected: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise ExpectationError(
                f"{source} line {number}: expected `CHECK-ID  reason`, got {line!r}"
            )
        check_id, reason = match["id"], match["reason"].strip()
        if check_id in expected:
            raise ExpectationError(f"{source} line {number}: {check_id} is listed twice")
        expected[check_id] = reason
    return expected


def read_expectations(path: str) -> dict[str, str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ExpectationError(f"cannot read the expected-failures list {path}: {exc}") from None
    return parse_expectations(text, path)
