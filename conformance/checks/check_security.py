"""Area security: secrets stay secret, tokens are checked, text stays text (seed 001's checklist
and CONTRACT.md §1-§3)."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator

import jwt
import pytest

from conformance.checks.check_connect import refused_status
from conformance.client import PASSWORD, Peer, unique_email, unique_room
from conformance.plugin import MUST, check


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def expect_refused(target, token: str, timeout: float, what: str) -> None:
    status = await refused_status(target.ws_url, f"?token={token}", timeout)
    assert status == 401, (
        f"{what}: expected the handshake refused with 401, got {status or 'accepted'}"
    )


BCRYPT = re.compile(r"\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}")


def fields_and_strings(value, path: str = "") -> Iterator[tuple[str, str, str]]:
    """Every ("field" or "value", path, text) of a JSON value, a JWT's claims included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield "field", f"{path}.{key}", str(key)
            yield from fields_and_strings(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from fields_and_strings(inner, f"{path}[{i}]")
    elif isinstance(value, str):
        yield "value", path, value
        if value.count(".") == 2 and value.startswith("eyJ"):
            try:
                claims = jwt.decode(value, options={"verify_signature": False})
            except jwt.PyJWTError:
                return
            yield from fields_and_strings(claims, f"{path}<claims>")


@check("SEC-001", MUST)
async def check_the_password_never_comes_back(rest):
    """§2: no answer of signup or login, errors included, holds the password or its hash."""
    email, password = unique_email(), "Canary-Password-7431"
    answers = [
        await rest.post("/signup", {"email": email, "password": password, "username": "al"}),
        await rest.post("/signup", {"email": email, "password": password, "username": "al"}),
        await rest.post("/login", {"email": email, "password": password}),
        await rest.post("/login", {"email": email, "password": password + "!"}),
    ]
    for answer in answers:
        assert password not in answer.text, f"the password came back: {answer}"
        assert not BCRYPT.search(answer.text), f"a bcrypt hash came back: {answer}"
        for kind, path, text in fields_and_strings(answer.body):
            assert not BCRYPT.search(text), f"a bcrypt hash came back at {path}: {answer}"
            if kind == "field":
                lowered = text.lower()
                assert "hash" not in lowered and "password" not in lowered, (
                    f"a password field came back ({path}): {answer}"
                )


@check("SEC-002", MUST)
async def check_alg_none_token_is_refused(target, user, conformance_timeout):
    """§3: an unsigned alg:none token with valid claims is refused with 401."""
    claims = jwt.decode(user.token, options={"verify_signature": False})
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    await expect_refused(target, unsigned, conformance_timeout, "alg none")


@check("SEC-003", MUST)
async def check_tampered_token_is_refused(target, user, conformance_timeout):
    """§3: a real token whose payload was changed after signing is refused with 401."""
    header, payload, signature = user.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"], claims["username"] = "someone-else", "mallory"
    await expect_refused(
        target, f"{header}.{b64(claims)}.{signature}", conformance_timeout, "tampered payload"
    )


@check("SEC-004", MUST)
@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", "e30.e30.", "%00"], ids=["word", "dots", "empty-json", "nul"]
)
async def check_garbage_token_is_refused(target, conformance_timeout, token: str):
    """§3: a token that is not a JWT is refused with 401."""
    await expect_refused(target, token, conformance_timeout, f"token {token!r}")


@check("SEC-005", MUST)
async def check_token_signed_with_another_key_is_refused(target, user, conformance_timeout):
    """§3: a well-formed HS256 token signed with another key is refused with 401."""
    claims = jwt.decode(user.token, options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-stage-key-but-long-enough-0123456789", algorithm="HS256")
    await expect_refused(target, forged, conformance_timeout, "foreign key")


@check("SEC-006", MUST)
async def check_expired_token_is_refused(target, signing_key, user, conformance_timeout):
    """§3: a correctly signed token whose exp has passed is refused with 401."""
    claims = jwt.decode(user.token, signing_key, algorithms=["HS256"])
    now = int(time.time())
    claims.update(iat=now - 7200, exp=now - 60)
    expired = jwt.encode(claims, signing_key, algorithm="HS256")
    await expect_refused(target, expired, conformance_timeout, "expired token")


@check("SEC-007", MUST)
async def check_login_failures_do_not_reveal_whether_the_email_exists(rest):
    """§2: unknown e-mail and wrong password get the same status and body (ids aside)."""
    email = unique_email()
    await rest.post("/signup", {"email": email, "password": PASSWORD, "username": "al"})
    unknown = await rest.post("/login", {"email": unique_email(), "password": PASSWORD})
    wrong = await rest.post("/login", {"email": email, "password": PASSWORD + "x"})
    assert unknown.status == wrong.status == 401, f"{unknown} vs {wrong}"
    for answer in (unknown, wrong):
        answer.body.get("error", {}).pop("requestId", None)
    assert unknown.body == wrong.body, f"the answers differ: {unknown.body} vs {wrong.body}"


@check("SEC-008", MUST)
async def check_rest_answers_carry_cors_headers(rest, http):
    """§2: every REST answer carries Access-Control-Allow-Origin; OPTIONS answers the preflight."""
    email = unique_email()
    answers = [
        await rest.post("/signup", {"email": email, "password": PASSWORD, "username": "al"}),
        await rest.post("/signup", {"email": email, "password": PASSWORD, "username": "al"}),
        await rest.post("/signup", raw="nope"),
        await rest.post("/login", {"email": email, "password": PASSWORD}),
        await rest.post("/login", {"email": email, "password": "wrong-password"}),
    ]
    for answer in answers:
        assert answer.headers.get("Access-Control-Allow-Origin"), f"no CORS header: {answer}"
    for path in ("/signup", "/login"):
        async with http.options(
            rest.rest_url + path,
            headers={
                "Origin": "https://chat.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        ) as preflight:
            headers = preflight.headers
            assert 200 <= preflight.status < 300, f"OPTIONS {path}: HTTP {preflight.status}"
            assert headers.get("Access-Control-Allow-Origin"), f"OPTIONS {path}: {dict(headers)}"
            assert "POST" in headers.get("Access-Control-Allow-Methods", ""), dict(headers)
            assert "content-type" in headers.get("Access-Control-Allow-Headers", "").lower()


@check("SEC-009", MUST)
async def check_html_is_stored_and_returned_as_text(peer: Peer):
    """§3: markup and whitespace in a message come back verbatim, in broadcast and history."""
    room = unique_room()
    await peer.join(room)
    text = "<script>alert('x')</script> &amp; <img src=x onerror=1>\n  trailing  "
    await peer.request({"action": "sendMessage", "roomId": room, "message": text})
    frame = await peer.message(lambda f: f.get("roomId") == room)
    assert frame["message"] == text, f"broadcast altered the text: {frame['message']!r}"
    history = await peer.request({"action": "getMessages", "roomId": room})
    assert history["messages"][0]["message"] == text, str(history)


@check("SEC-010", MUST)
async def check_token_is_hs256_with_the_contract_claims(rest):
    """§2 login: the token is HS256 with sub, username, email, iat and exp = iat + expiresIn."""
    email = unique_email()
    created = await rest.post(
        "/signup", {"email": email, "password": PASSWORD, "username": "claims"}
    )
    answer = await rest.post("/login", {"email": email, "password": PASSWORD})
    token = answer.body["token"]
    header = jwt.get_unverified_header(token)
    assert header.get("alg") == "HS256", f"expected alg HS256, got {header}"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims.get("sub") == created.body["userId"], f"sub: {claims}"
    assert claims.get("username") == "claims" and claims.get("email") == email, str(claims)
    assert claims["exp"] - claims["iat"] == answer.body["expiresIn"], str(claims)
    assert abs(claims["iat"] - time.time()) < 300, f"iat is not now: {claims}"


@check("SEC-011", MUST)
async def check_errors_never_carry_internals(rest, peer: Peer):
    """§1: error answers hold only code, message, field and requestId — no traces or internals."""
    allowed = {"code", "message", "field", "requestId"}
    rest_answers = [
        await rest.post("/signup", raw="{"),
        await rest.post("/signup", raw="[" * 10_000 + "]" * 10_000),
        await rest.post("/signup", {"email": "x@y.io", "password": "\ud800" * 9, "username": "al"}),
        await rest.post("/login", {"email": ["x"], "password": {}}),
    ]
    for answer in rest_answers:
        assert 400 <= answer.status < 500, f"expected a 4xx refusal, got {answer}"
        assert set(answer.body.get("error", {})) <= allowed, f"unexpected fields: {answer}"
    frames = [
        "[" * 10_000 + "]" * 10_000,
        '{"action": "sendMessage", "roomId": {"$ne": 1}}',
        '{"action": "sendMessage", "roomId": "general", "message": "\\ud800"}',
    ]
    for frame in frames:
        answer = await peer.request(frame)
        assert answer.get("type") == "error", f"expected an error frame, got {answer}"
        assert set(answer) <= allowed | {"type", "action"}, f"unexpected fields: {answer}"
        assert answer.get("code") != "INTERNAL_ERROR", f"bad input crashed the stage: {answer}"
    for text in [a.text for a in rest_answers]:
        assert "Traceback" not in text and 'File "' not in text, text
