"""Area auth: POST /signup and POST /login (CONTRACT.md §2)."""

from __future__ import annotations

import asyncio

import pytest

from conformance.client import PASSWORD, Rest, unique_email
from conformance.plugin import MUST, check

GOOD = {"password": PASSWORD, "username": "alice"}


def _error(answer, status: int, code: str, field: str | None = None) -> None:
    assert answer.status == status, f"expected {status} {code}, got {answer}"
    assert isinstance(answer.body, dict) and isinstance(answer.body.get("error"), dict), (
        f'expected {{"error": {{...}}}}, got {answer}'
    )
    error = answer.body["error"]
    assert error.get("code") == code, f"expected code {code}, got {answer}"
    assert isinstance(error.get("message"), str) and error["message"], f"no message: {answer}"
    if field is not None:
        assert error.get("field") == field, f"expected field {field!r}, got {answer}"


@check("AUTH-001", MUST)
async def check_signup_answers_201_with_the_user(rest: Rest):
    """§2 signup: a valid body answers 201 {userId, email, username} as JSON."""
    email = unique_email()
    answer = await rest.post("/signup", {"email": email, **GOOD})
    assert answer.status == 201, f"expected 201, got {answer}"
    assert isinstance(answer.body, dict), f"expected a JSON object, got {answer}"
    assert set(answer.body) >= {"userId", "email", "username"}, f"missing fields: {answer}"
    assert answer.body["email"] == email and answer.body["username"] == "alice", str(answer)
    assert isinstance(answer.body["userId"], str) and answer.body["userId"], str(answer)
    assert answer.headers.get("Content-Type", "").startswith("application/json"), str(answer)


@check("AUTH-002", MUST)
@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"text"', "", "{"])
async def check_signup_refuses_a_body_that_is_not_a_json_object(rest: Rest, raw: str):
    """§2 signup: a body that is not a JSON object answers 400 INVALID_JSON."""
    _error(await rest.post("/signup", raw=raw), 400, "INVALID_JSON")


@check("AUTH-003", MUST)
@pytest.mark.parametrize("missing", ["email", "password", "username"])
async def check_signup_refuses_a_missing_field(rest: Rest, missing: str):
    """§2 signup: a missing field answers 400 VALIDATION_ERROR naming it."""
    body = {"email": unique_email(), **GOOD}
    del body[missing]
    _error(await rest.post("/signup", body), 400, "VALIDATION_ERROR", missing)


@check("AUTH-004", MUST)
@pytest.mark.parametrize("field", ["email", "password", "username"])
async def check_signup_refuses_a_field_that_is_not_a_string(rest: Rest, field: str):
    """§2 signup: a field of another type answers 400 VALIDATION_ERROR naming it."""
    body = {"email": unique_email(), **GOOD, field: 12345678}
    _error(await rest.post("/signup", body), 400, "VALIDATION_ERROR", field)


@check("AUTH-005", MUST)
@pytest.mark.parametrize(
    "email",
    [
        "no-at-sign.example",
        "two@@example.test",
        "spa ce@example.test",
        "user@nodot",
        "@x.io",
        "user@",
        "",
    ],
)
async def check_signup_refuses_a_malformed_email(rest: Rest, email: str):
    """§2 signup: a malformed e-mail answers 400 VALIDATION_ERROR on email."""
    _error(await rest.post("/signup", {"email": email, **GOOD}), 400, "VALIDATION_ERROR", "email")


@check("AUTH-006", MUST)
async def check_signup_password_needs_eight_characters(rest: Rest):
    """§2 signup: a 7-character password answers 400 on password; 8 characters are accepted."""
    short = await rest.post(
        "/signup", {"email": unique_email(), "password": "seven77", "username": "al"}
    )
    _error(short, 400, "VALIDATION_ERROR", "password")
    ok = await rest.post(
        "/signup", {"email": unique_email(), "password": "eight888", "username": "al"}
    )
    assert ok.status == 201, f"an 8-character password must be accepted, got {ok}"


@check("AUTH-007", MUST)
@pytest.mark.parametrize("username", ["", "x" * 33, "tab\there", "new\nline", "   "])
async def check_signup_refuses_a_username_out_of_bounds(rest: Rest, username: str):
    """§2 signup: a username that is not 1-32 printable characters answers 400 on username."""
    body = {"email": unique_email(), "password": PASSWORD, "username": username}
    _error(await rest.post("/signup", body), 400, "VALIDATION_ERROR", "username")


@check("AUTH-008", MUST)
@pytest.mark.parametrize("username", ["x", "y" * 32, "Zoë ☕ 42"])
async def check_signup_accepts_a_username_within_bounds(rest: Rest, username: str):
    """§2 signup: usernames of 1 and 32 printable characters, Unicode included, are accepted."""
    answer = await rest.post(
        "/signup", {"email": unique_email(), "password": PASSWORD, "username": username}
    )
    assert answer.status == 201, f"expected 201, got {answer}"
    assert answer.body["username"] == username, str(answer)


@check("AUTH-009", MUST)
async def check_signup_refuses_an_email_taken_in_any_letter_case(rest: Rest):
    """§2 signup: an e-mail already registered, in any letter case, answers 409 EMAIL_TAKEN."""
    email = unique_email()
    first = await rest.post("/signup", {"email": email, **GOOD})
    assert first.status == 201, f"expected 201, got {first}"
    _error(await rest.post("/signup", {"email": email, **GOOD}), 409, "EMAIL_TAKEN")
    _error(await rest.post("/signup", {"email": email.upper(), **GOOD}), 409, "EMAIL_TAKEN")


@check("AUTH-010", MUST)
async def check_concurrent_signups_of_one_email_have_exactly_one_winner(rest: Rest):
    """§2 signup: of 8 simultaneous signups of one e-mail (varying case) exactly one wins."""
    email = unique_email()
    variants = [email, email.upper(), email.title(), email.swapcase()] * 2
    answers = await asyncio.gather(*(rest.post("/signup", {"email": v, **GOOD}) for v in variants))
    statuses = sorted(a.status for a in answers)
    assert statuses == [201] + [409] * 7, f"expected one 201 and seven 409, got {statuses}"


@check("AUTH-011", MUST)
async def check_login_answers_a_token_and_the_user(rest: Rest):
    """§2 login: valid credentials (e-mail in any case) answer 200 {token, expiresIn, user}."""
    email = unique_email()
    created = await rest.post("/signup", {"email": email, **GOOD})
    answer = await rest.post("/login", {"email": email.upper(), "password": PASSWORD})
    assert answer.status == 200, f"expected 200, got {answer}"
    assert set(answer.body) >= {"token", "expiresIn", "user"}, f"missing fields: {answer}"
    user = {k: answer.body["user"].get(k) for k in ("userId", "email", "username")}
    signed_up = {k: created.body.get(k) for k in ("userId", "email", "username")}
    assert user == signed_up, f"user differs from signup's {signed_up}: {answer}"
    assert isinstance(answer.body["token"], str) and answer.body["token"].count(".") == 2
    assert isinstance(answer.body["expiresIn"], int) and answer.body["expiresIn"] > 0


@check("AUTH-012", MUST)
async def check_login_refuses_a_wrong_password(rest: Rest):
    """§2 login: a wrong password answers 401 INVALID_CREDENTIALS."""
    email = unique_email()
    await rest.post("/signup", {"email": email, **GOOD})
    answer = await rest.post("/login", {"email": email, "password": PASSWORD + "x"})
    _error(answer, 401, "INVALID_CREDENTIALS")
    assert "token" not in answer.text


@check("AUTH-013", MUST)
async def check_login_refuses_an_unknown_email(rest: Rest):
    """§2 login: an unknown e-mail answers 401 INVALID_CREDENTIALS."""
    _error(
        await rest.post("/login", {"email": unique_email(), "password": PASSWORD}),
        401,
        "INVALID_CREDENTIALS",
    )


@check("AUTH-014", MUST)
@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("{", 400, "INVALID_JSON"),
        ("[]", 400, "INVALID_JSON"),
        ('{"email": "a@b.io"}', 400, "VALIDATION_ERROR"),
        ('{"email": 1, "password": "x"}', 400, "VALIDATION_ERROR"),
    ],
)
async def check_login_refuses_a_malformed_body(rest: Rest, raw: str, status: int, code: str):
    """§2 login: a malformed body answers 400 with INVALID_JSON or VALIDATION_ERROR."""
    _error(await rest.post("/login", raw=raw), status, code)


@check("AUTH-016", MUST)
async def check_signup_trims_the_email_and_keeps_its_case(rest: Rest):
    """§2 signup: the e-mail is trimmed and kept in its letter case; login and uniqueness use
    the trimmed e-mail."""
    email = unique_email().replace("conf-", "Conf-")
    answer = await rest.post("/signup", {"email": f"  {email}\t", **GOOD})
    assert answer.status == 201, f"expected 201, got {answer}"
    assert answer.body.get("email") == email, f"expected the e-mail {email!r}, got {answer}"
    login = await rest.post("/login", {"email": f" {email.lower()} ", "password": PASSWORD})
    assert login.status == 200, f"login with the trimmed e-mail: expected 200, got {login}"
    assert login.body["user"].get("email") == email, f"expected {email!r}, got {login}"
    again = await rest.post("/signup", {"email": f" {email.upper()}", **GOOD})
    _error(again, 409, "EMAIL_TAKEN")


@check("AUTH-015", MUST)
@pytest.mark.parametrize(("method", "path"), [("GET", "/signup"), ("POST", "/nothing")])
async def check_unknown_route_is_answered_by_the_gateway(rest: Rest, method: str, path: str):
    """§2: a path or method the API does not have answers 403 Missing Authentication Token."""
    answer = await rest.call(method, path)
    assert answer.status == 403, f"expected 403, got {answer}"
    assert isinstance(answer.body, dict), f"expected a JSON object, got {answer}"
    assert answer.body.get("message") == "Missing Authentication Token", str(answer)
