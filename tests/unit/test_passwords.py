"""bcrypt hashing (lambdas/domain/passwords.py), always at cost 10 to stay fast."""

from __future__ import annotations

import pytest

from lambdas.domain.passwords import hash_password, verify_against_nothing, verify_password

ROUNDS = 10


@pytest.fixture(scope="module")
def stored():
    """One hash of a known password, shared by the module (hashing takes tens of ms)."""
    return hash_password("correct horse", ROUNDS)


def test_hash_is_bcrypt_at_the_requested_cost(stored):
    """The hash is a 60-character bcrypt string at cost 10."""
    assert stored.startswith("$2b$10$")
    assert len(stored) == 60


def test_hash_never_contains_the_password(stored):
    """The plain password appears nowhere in its hash."""
    assert "correct horse" not in stored
    assert "correct" not in stored


def test_hashing_twice_uses_a_fresh_salt(stored):
    """The same password hashes differently each time, and both verify."""
    again = hash_password("correct horse", ROUNDS)
    assert again != stored
    assert verify_password("correct horse", again)


def test_right_password_verifies(stored):
    """The password that was hashed verifies against the hash."""
    assert verify_password("correct horse", stored) is True


@pytest.mark.parametrize("attempt", ["correct horsE", "correct horse ", "", "x" * 80, "correct"])
def test_wrong_password_does_not_verify(stored, attempt):
    """Any other password, including one over 72 bytes, fails verification."""
    assert verify_password(attempt, stored) is False


def test_multibyte_password_round_trips():
    """A 72-byte password of multibyte characters hashes and verifies."""
    password = "😀" * 18
    hashed = hash_password(password, ROUNDS)
    assert verify_password(password, hashed) is True
    assert verify_password("😀" * 17 + "😁", hashed) is False


@pytest.mark.parametrize("bad_hash", ["", "not-a-hash", "$2b$10$short", "$2b$99$" + "a" * 53])
def test_malformed_hash_does_not_verify(bad_hash):
    """A malformed stored hash answers False instead of raising."""
    assert verify_password("correct horse", bad_hash) is False


def test_password_with_a_lone_surrogate_does_not_verify(stored):
    """A password that cannot be encoded in UTF-8 answers False instead of raising."""
    assert verify_password("correct horse\ud800", stored) is False


def test_verify_against_nothing_always_answers_false():
    """The unknown-e-mail path spends a verification and answers False."""
    assert verify_against_nothing("correct horse", ROUNDS) is False
    assert verify_against_nothing("x" * 100, ROUNDS) is False


def test_verify_against_nothing_answers_false_for_a_lone_surrogate():
    """Like verify_password, the unknown-e-mail path answers False for an unencodable password."""
    assert verify_against_nothing("correct horse\ud800", ROUNDS) is False


class _CountingCheck:
    """Wraps bcrypt.checkpw: every call is recorded with the length of what it checked."""

    def __init__(self, monkeypatch):
        import bcrypt

        self.calls: list[int] = []
        real = bcrypt.checkpw

        def checkpw(candidate, hashed):
            self.calls.append(len(candidate))
            return real(candidate, hashed)

        monkeypatch.setattr(bcrypt, "checkpw", checkpw)


@pytest.mark.parametrize(
    "attempt", ["correct horse", "wrong horse", "x" * 73, "é" * 50, "\ud800 lone surrogate"]
)
def test_every_password_costs_one_bcrypt_check(stored, monkeypatch, attempt):
    """A password over 72 bytes or holding a lone surrogate is checked by bcrypt like any other
    (never an early False): a login costs the same whatever the password, so its time cannot
    tell a known e-mail from an unknown one."""
    counting = _CountingCheck(monkeypatch)
    verify_password(attempt, stored)
    verify_against_nothing(attempt, ROUNDS)
    assert len(counting.calls) == 2
    assert all(0 < n <= 72 for n in counting.calls)


def test_a_password_whose_first_72_bytes_match_is_still_refused():
    """bcrypt reads 72 bytes: a longer attempt starting with the whole password never passes."""
    password = "p" * 72
    hashed = hash_password(password, ROUNDS)
    assert verify_password(password, hashed) is True
    assert verify_password(password + "extra", hashed) is False
