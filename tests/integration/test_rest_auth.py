"""REST API: POST /signup and POST /login, their errors, CORS and the gateway's own answers."""

from __future__ import annotations

import asyncio

import jwt
import pytest

from tests.support.chat_client import PASSWORD, Rest, unique_email

GOOD = {"password": PASSWORD, "username": "alice"}


async def test_signup_creates_user(rest: Rest):
    """A valid signup answers 201 with userId, email and username — and nothing else."""
    email = unique_email()
    status, body, headers = await rest.post("/signup", {"email": email, **GOOD})
    assert status == 201, body
    assert set(body) == {"userId", "email", "username"}, body
    assert body["email"] == email and body["username"] == "alice" and body["userId"]
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Access-Control-Allow-Origin"]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "INVALID_JSON"),
        ("[1, 2]", "INVALID_JSON"),
        ("", "INVALID_JSON"),
        ('"text"', "INVALID_JSON"),
    ],
)
async def test_signup_refuses_non_object_body(rest: Rest, raw: str, code: str):
    """A body that is not a JSON object answers 400 INVALID_JSON."""
    status, body, headers = await rest.post("/signup", raw=raw)
    assert (status, body["error"]["code"]) == (400, code), body
    assert headers["Access-Control-Allow-Origin"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": None}, "email"),
        ({"password": None}, "password"),
        ({"username": None}, "username"),
        ({"email": 42}, "email"),
        ({"email": "no-at-sign.example"}, "email"),
        ({"email": "two@@example.test"}, "email"),
        ({"email": "spaces in@example.test"}, "email"),
        ({"email": "user@nodot"}, "email"),
        ({"email": "a" * 250 + "@x.io"}, "email"),
        ({"password": "short7!"}, "password"),
        ({"password": "é" * 37}, "password"),
        ({"username": ""}, "username"),
        ({"username": "x" * 33}, "username"),
        ({"username": "tab\there"}, "username"),
        ({"username": "   "}, "username"),
        ({"username": ["list"]}, "username"),
    ],
)
async def test_signup_refuses_invalid_field(rest: Rest, change: dict, field: str):
    """Each field rule answers 400 VALIDATION_ERROR naming the field."""
    body = {"email": unique_email(), **GOOD, **change}
    body = {k: v for k, v in body.items() if v is not None}
    status, answer, _ = await rest.post("/signup", body)
    assert status == 400, answer
    assert answer["error"]["code"] == "VALIDATION_ERROR", answer
    assert answer["error"]["field"] == field, answer
    assert answer["error"]["message"]


async def test_signup_accepts_bounds(rest: Rest):
    """An 8-character password, a 72-byte password and 1- and 32-character usernames pass."""
    for password, username in (("8charsok", "x"), ("p" * 72, "y" * 32)):
        status, body, _ = await rest.post(
            "/signup", {"email": unique_email(), "password": password, "username": username}
        )
        assert status == 201, body


async def test_signup_refuses_taken_email_in_any_case(rest: Rest):
    """A second signup with the same e-mail in other letter case answers 409 EMAIL_TAKEN."""
    email = unique_email()
    status, _, _ = await rest.post("/signup", {"email": email, **GOOD})
    assert status == 201
    status, body, headers = await rest.post("/signup", {"email": email.upper(), **GOOD})
    assert (status, body["error"]["code"]) == (409, "EMAIL_TAKEN"), body
    assert headers["Access-Control-Allow-Origin"]


async def test_concurrent_signups_have_exactly_one_winner(rest: Rest):
    """Eight simultaneous signups of one e-mail (varying case): one 201, seven 409."""
    email = unique_email()
    variants = [email, email.upper(), email.title(), email.swapcase()] * 2
    results = await asyncio.gather(*(rest.post("/signup", {"email": v, **GOOD}) for v in variants))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] + [409] * 7, [(s, b) for s, b, _ in results]


async def test_login_returns_token_with_claims(rest: Rest, stage):
    """Login answers 200 with an HS256 token carrying sub, username, email, iat and exp."""
    email = unique_email()
    _, created, _ = await rest.post("/signup", {"email": email, **GOOD})
    status, body, headers = await rest.post(
        "/login", {"email": email.upper(), "password": PASSWORD}
    )
    assert status == 200, body
    assert body["user"] == created
    assert body["expiresIn"] == 86400
    assert headers["Access-Control-Allow-Origin"]
    claims = jwt.decode(body["token"], stage.jwt_secret, algorithms=["HS256"])
    assert claims["sub"] == created["userId"]
    assert (claims["username"], claims["email"]) == ("alice", email)
    assert claims["exp"] - claims["iat"] == 86400
    assert jwt.get_unverified_header(body["token"])["alg"] == "HS256"


async def test_login_failures_are_indistinguishable(rest: Rest):
    """Unknown e-mail and wrong password answer the same 401 INVALID_CREDENTIALS body."""
    email = unique_email()
    await rest.post("/signup", {"email": email, **GOOD})
    s1, unknown, _ = await rest.post("/login", {"email": unique_email(), "password": PASSWORD})
    s2, wrong, _ = await rest.post("/login", {"email": email, "password": PASSWORD + "x"})
    assert s1 == s2 == 401
    for body in (unknown, wrong):
        body["error"].pop("requestId")
    assert (
        unknown
        == wrong
        == {"error": {"code": "INVALID_CREDENTIALS", "message": "invalid e-mail or password"}}
    )


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("{", 400, "INVALID_JSON"),
        ('{"email": "a@b.io"}', 400, "VALIDATION_ERROR"),
        ('{"email": 1, "password": "x"}', 400, "VALIDATION_ERROR"),
    ],
)
async def test_login_refuses_bad_bodies(rest: Rest, raw: str, status: int, code: str):
    """A malformed login body answers 400 with its code."""
    got, body, _ = await rest.post("/login", raw=raw)
    assert (got, body["error"]["code"]) == (status, code), body


@pytest.mark.parametrize("path", ["/signup", "/login"])
async def test_options_preflight_answers_cors(http, stage, path: str):
    """OPTIONS on each path answers the CORS preflight."""
    async with http.options(
        stage.rest_url + path,
        headers={"Origin": "http://example.test", "Access-Control-Request-Method": "POST"},
    ) as response:
        assert 200 <= response.status < 300
        assert response.headers["Access-Control-Allow-Origin"]
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


@pytest.mark.parametrize(("method", "path"), [("GET", "/signup"), ("POST", "/nothing")])
async def test_unknown_route_is_answered_by_the_gateway(http, stage, method: str, path: str):
    """A path or method without a route answers API Gateway's 403 Missing Authentication Token."""
    async with http.request(method, stage.rest_url + path) as response:
        assert response.status == 403
        assert await response.json() == {"message": "Missing Authentication Token"}


async def test_password_never_leaves_or_is_stored(rest: Rest, stage, dynamodb):
    """Neither responses, the stage's logs nor any stored attribute hold the plain password."""
    email, password = unique_email(), "Secret-Canary-7431"
    responses = [
        await rest.post("/signup", {"email": email, "password": password, "username": "al"}),
        await rest.post("/login", {"email": email, "password": password}),
        await rest.post("/login", {"email": email, "password": password + "!"}),
        await rest.post("/signup", {"email": email, "password": password, "username": "al"}),
    ]
    for _, body, _ in responses:
        assert password not in str(body)
    assert password not in stage.logs()
    items = dynamodb.scan(TableName="chatstack-local-users")["Items"]
    mine = [i for i in items if i.get("email", {}).get("S") == email]
    assert len(mine) == 1
    assert all(password not in str(value) for value in mine[0].values())
    assert mine[0]["passwordHash"]["S"].startswith("$2b$10$")
