"""JWT issue and verification (lambdas/domain/tokens.py): every refusal is Unauthorized."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from lambdas.contract.errors import Unauthorized
from lambdas.domain.tokens import ALGORITHM, Identity, issue_token, verify_token

SECRET = "unit-test-secret-" + "0123456789abcdef" * 4
ADA = Identity(user_id="user-1", username="Ada", email="Ada@Example.com")


def b64url(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def now() -> int:
    return int(time.time())


def claims(**overrides):
    issued = now()
    values = {
        "sub": "user-1",
        "username": "Ada",
        "email": "a@b.co",
        "iat": issued,
        "exp": issued + 600,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def test_issued_token_verifies_to_the_same_identity():
    """A token issued now verifies back to the identity it was issued for."""
    token = issue_token(ADA, SECRET, 3600, now())
    assert verify_token(token, SECRET) == ADA


def test_issued_token_is_hs256_with_the_contract_claims():
    """The token is HS256 and carries sub, username, email, iat and exp = iat + ttl."""
    issued = now()
    token = issue_token(ADA, SECRET, 86400, issued)
    assert jwt.get_unverified_header(token)["alg"] == "HS256" == ALGORITHM
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert decoded == {
        "sub": "user-1",
        "username": "Ada",
        "email": "Ada@Example.com",
        "iat": issued,
        "exp": issued + 86400,
    }


def refuses(token, secret=SECRET):
    with pytest.raises(Unauthorized) as caught:
        verify_token(token, secret)
    assert caught.value.code == "UNAUTHORIZED"
    assert caught.value.status == 401
    return caught.value


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_is_refused(token):
    """No token at all is refused."""
    refuses(token)


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "a.b", "....", "eyJhbGciOiJIUzI1NiJ9.e30", "Bearer x.y.z", "é.é.é"],
)
def test_garbage_token_is_refused(token):
    """A string that is not a JWT is refused."""
    refuses(token)


def test_token_signed_with_another_key_is_refused():
    """A valid token signed with a different secret is refused."""
    refuses(issue_token(ADA, "another-secret-" + "f" * 64, 3600, now()))


def test_token_with_a_tampered_payload_is_refused():
    """Changing the payload of a signed token breaks its signature."""
    header, _, signature = issue_token(ADA, SECRET, 3600, now()).split(".")
    forged = b64url(claims(sub="admin"))
    refuses(f"{header}.{forged}.{signature}")


def test_alg_none_token_built_by_hand_is_refused():
    """An unsigned token (alg none) with valid claims is refused."""
    header = b64url({"alg": "none", "typ": "JWT"})
    token = f"{header}.{b64url(claims())}."
    refuses(token)
    header_upper = b64url({"alg": "None", "typ": "JWT"})
    refuses(f"{header_upper}.{b64url(claims())}.")


def test_token_signed_with_another_hmac_algorithm_is_refused():
    """Only HS256 is accepted, even with the right key."""
    refuses(jwt.encode(claims(), SECRET, algorithm="HS512"))


def test_expired_token_is_refused():
    """A token whose exp has passed is refused with an expiry message."""
    error = refuses(issue_token(ADA, SECRET, 60, now() - 3600))
    assert "expired" in error.message


def test_token_expiring_in_the_future_is_accepted_at_the_edge():
    """A token with a few seconds left is still valid."""
    assert verify_token(issue_token(ADA, SECRET, 3605, now() - 3600), SECRET) == ADA


@pytest.mark.parametrize("missing", ["sub", "username", "email", "iat", "exp"])
def test_token_missing_a_claim_is_refused(missing):
    """A correctly signed token lacking any of the five claims is refused."""
    refuses(jwt.encode(claims(**{missing: None}), SECRET, algorithm="HS256"))


@pytest.mark.parametrize(
    "overrides",
    [{"sub": ""}, {"username": ""}, {"email": ""}, {"username": 5}, {"email": ["a"]}, {"sub": 1}],
    ids=["empty-sub", "empty-username", "empty-email", "int-username", "list-email", "int-sub"],
)
def test_token_with_an_empty_or_non_string_identity_claim_is_refused(overrides):
    """sub, username and email must be non-empty strings."""
    refuses(jwt.encode(claims(**overrides), SECRET, algorithm="HS256"))


def test_token_with_non_numeric_exp_is_refused():
    """A malformed exp claim is refused, not trusted."""
    refuses(jwt.encode(claims(exp="tomorrow"), SECRET, algorithm="HS256"))
