"""WebSocket $connect: the token in the query string decides the handshake."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
import websockets

from tests.support.chat_client import TIMEOUT, Peer, Rest, unique_room


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _refused_status(ws_url: str, query: str) -> int:
    try:
        socket = await websockets.connect(ws_url + query, open_timeout=TIMEOUT, proxy=None)
    except websockets.InvalidStatus as refused:
        return refused.response.status_code
    await socket.close()
    raise AssertionError(f"handshake with {query[:40]!r} was accepted")


async def test_refuses_missing_token(stage):
    """No token: the handshake is refused with 401."""
    assert await _refused_status(stage.ws_url, "") == 401
    assert await _refused_status(stage.ws_url, "?token=") == 401


async def test_refuses_garbage_token(stage):
    """A token that is not a JWT: 401."""
    assert await _refused_status(stage.ws_url, "?token=not.a.jwt") == 401


async def test_refuses_token_with_tampered_signature(stage, user):
    """A real token whose payload was changed after signing: 401."""
    header, payload, signature = user.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["username"] = "mallory"
    assert await _refused_status(stage.ws_url, f"?token={header}.{_b64(claims)}.{signature}") == 401


async def test_refuses_token_signed_with_another_key(stage, user):
    """A well-formed token signed with another key: 401."""
    claims = jwt.decode(user.token, options={"verify_signature": False})
    forged = jwt.encode(claims, "another-key-of-sufficient-length-0123456789", algorithm="HS256")
    assert await _refused_status(stage.ws_url, f"?token={forged}") == 401


async def test_refuses_alg_none_token(stage, user):
    """An unsigned ``alg: none`` token carrying valid claims: 401."""
    claims = jwt.decode(user.token, options={"verify_signature": False})
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert await _refused_status(stage.ws_url, f"?token={unsigned}") == 401


async def test_refuses_expired_token(stage, user):
    """A correctly signed token whose exp has passed: 401."""
    claims = jwt.decode(user.token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 7200, exp=now - 3600)
    expired = jwt.encode(claims, stage.jwt_secret, algorithm="HS256")
    assert await _refused_status(stage.ws_url, f"?token={expired}") == 401


async def test_valid_token_connects_into_general(stage, rest: Rest):
    """A valid token opens the connection joined to ``general``: it receives general's messages."""
    alice, bob = await rest.new_user("alice"), await rest.new_user("bob")
    a, b = (
        await Peer.connect(stage.ws_url, alice.token),
        await Peer.connect(stage.ws_url, bob.token),
    )
    text = f"hello {unique_room()}"
    ack = await a.request({"action": "sendMessage", "roomId": "general", "message": text})
    assert ack["type"] == "ack", ack
    for peer in (a, b):
        while (got := await peer.broadcast())["message"] != text:
            pass  # other tests may talk in general too
        assert got["username"] == "alice" and got["userId"] == alice.user_id
    await a.close()
    await b.close()


@pytest.mark.parametrize("path", ["/elsewhere", "/dev/extra"])
async def test_unknown_websocket_path_is_refused(stage, user, path: str):
    """Only the stage path upgrades."""
    base = stage.ws_url.rsplit("/", 1)[0]
    try:
        socket = await websockets.connect(
            f"{base}{path}?token={user.token}", open_timeout=TIMEOUT, proxy=None
        )
    except websockets.InvalidStatus as refused:
        assert refused.response.status_code in (403, 404)
    else:
        await socket.close()
        raise AssertionError("handshake on an unknown path was accepted")
