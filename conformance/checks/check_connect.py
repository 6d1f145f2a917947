"""Area connect: the WebSocket handshake with ?token= (CONTRACT.md §3, Connecting)."""

from __future__ import annotations

import uuid

import websockets

from conformance.client import Peer, User
from conformance.plugin import MUST, check


async def refused_status(ws_url: str, query: str, timeout: float) -> int | None:
    """The HTTP status refusing the handshake, or None if it was accepted."""
    try:
        socket = await websockets.connect(ws_url + query, open_timeout=timeout, proxy=None)
    except websockets.InvalidStatus as refused:
        return refused.response.status_code
    await socket.close()
    return None


@check("CONN-001", MUST)
async def check_valid_token_opens_a_connection(target, user: User, conformance_timeout):
    """§3: a valid token from /login opens the connection, which answers frames."""
    peer = await Peer.connect(target.ws_url, user.token, conformance_timeout)
    answer = await peer.request({"action": "getMessages", "roomId": "general", "limit": 1})
    assert answer.get("type") == "messages", f"expected a messages frame, got {answer}"
    await peer.close()


@check("CONN-002", MUST)
async def check_missing_token_is_refused_with_401(target, conformance_timeout):
    """§3: a handshake without a token (or with an empty one) is refused with HTTP 401."""
    for query in ("", "?token="):
        status = await refused_status(target.ws_url, query, conformance_timeout)
        assert status == 401, f"handshake with {query!r}: expected 401, got {status or 'accepted'}"


@check("CONN-003", MUST)
async def check_new_connection_is_joined_to_general(connect, rest):
    """§3: a new connection starts joined to `general`: it receives general's broadcasts."""
    alice, bob = await rest.new_user("alice"), await rest.new_user("bob")
    sender, listener = await connect(alice), await connect(bob)
    text = f"hello general {uuid.uuid4().hex}"
    ack = await sender.request({"action": "sendMessage", "roomId": "general", "message": text})
    assert ack.get("type") == "ack", f"sendMessage to general: expected an ack, got {ack}"
    for peer in (sender, listener):
        frame = await peer.message(lambda f: f.get("message") == text)
        assert frame["roomId"] == "general" and frame["userId"] == alice.user_id, str(frame)
