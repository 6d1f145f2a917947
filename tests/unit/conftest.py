"""Unit tests run without any network: a socket connect fails the test at once."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Refuse every outgoing socket connection made by a unit test."""

    def refuse(self, address):
        raise AssertionError(f"unit tests must not open connections (tried {address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
