"""Parsing @connections answers (lambdas/domain/signed_delivery.py): pure, over bytes."""

from __future__ import annotations

import pytest

from lambdas.domain.signed_delivery import MalformedAnswer, parse_header, parse_status_line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\n", (200, True)),
        (b"HTTP/1.1 410 Gone\r\n", (410, True)),
        (b"HTTP/1.0 503 Service Unavailable\r\n", (503, False)),
        (b"HTTP/1.1 204\r\n", (204, True)),
    ],
)
def test_a_status_line_gives_the_status_and_the_default_keep_alive(line, expected):
    """HTTP/1.1 keeps the connection alive by default, HTTP/1.0 does not."""
    assert parse_status_line(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        b"HTTP/1.1 2OO OK\r\n",
        b"HTTP/1.1 20 OK\r\n",
        "HTTP/1.1 ２００ OK\r\n".encode(),
        b"HTTP/2 200\r\n",
        b"SPDY/3 200 OK\r\n",
        b"HTTP/1.1\r\n",
        b"\r\n",
        b"\x00\xff garbage",
    ],
)
def test_a_malformed_status_line_is_a_malformed_answer(line):
    """Anything but ``HTTP/1.x NNN`` raises MalformedAnswer (a ConnectionError), never a
    ValueError that would escape the delivery's error handling."""
    with pytest.raises(MalformedAnswer):
        parse_status_line(line)
    assert issubclass(MalformedAnswer, ConnectionError)


def test_a_header_line_gives_its_lower_case_name_and_value():
    """Names are case-insensitive; values are stripped."""
    assert parse_header(b"Content-Length:  12 \r\n") == (b"content-length", b"12")


@pytest.mark.parametrize("line", [b"no colon here\r\n", b": value\r\n"])
def test_a_malformed_header_line_is_a_malformed_answer(line):
    """A header without a name or a colon is not HTTP."""
    with pytest.raises(MalformedAnswer):
        parse_header(line)
