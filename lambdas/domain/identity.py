"""Who a connection or request belongs to: the identity a valid token names.

A module of its own so that code needing only the identity (the connections store, and with it
every WebSocket route, the broadcaster and the fan-out function) never imports PyJWT and the
``cryptography`` package behind it — about a fifth of a cold start's CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Identity"]


@dataclass(frozen=True)
class Identity:
    """Who a valid token says its bearer is."""

    user_id: str
    username: str
    email: str
