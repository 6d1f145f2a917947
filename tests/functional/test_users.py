"""Sign up and log in (lambdas/domain/users.py) against moto's DynamoDB."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest

from lambdas.contract.errors import EmailTaken, InvalidCredentials
from lambdas.contract.validation import parse_login, parse_signup
from lambdas.domain.passwords import hash_password, verify_password
from lambdas.domain.tokens import verify_token
from lambdas.domain.users import User, UserStore, login, signup
from tests.functional.helpers import scan_all

ROUNDS = 10
SECRET = "functional-secret-" + "x" * 48
PASSWORD = "correct horse battery"


@pytest.fixture
def users_table(make_table) -> str:
    return make_table("users").name


@pytest.fixture
def store(dynamodb, users_table) -> UserStore:
    return UserStore(dynamodb, users_table)


def register(store, email="ada@example.com", password=PASSWORD, username="Ada") -> User:
    request = parse_signup({"email": email, "password": password, "username": username})
    return signup(store, request, ROUNDS)


def log_in(store, email="ada@example.com", password=PASSWORD, now=None):
    request = parse_login({"email": email, "password": password})
    return login(store, request, secret=SECRET, ttl_seconds=3600, bcrypt_rounds=ROUNDS, now=now)


class ConflictingClient:
    """A DynamoDB client whose first ``failures`` TransactWriteItems are cancelled by AWS."""

    def __init__(self, real: Any, reasons: list[dict[str, str]], failures: int) -> None:
        self._real = real
        self._reasons = reasons
        self._failures = failures
        self.transactions = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.transactions += 1
        if self.transactions <= self._failures:
            codes = ", ".join(r["Code"] for r in self._reasons)
            raise self._real.exceptions.TransactionCanceledException(
                {
                    "Error": {
                        "Code": "TransactionCanceledException",
                        "Message": f"Transaction cancelled [{codes}]",
                    },
                    "CancellationReasons": self._reasons,
                },
                "TransactWriteItems",
            )
        return self._real.transact_write_items(**kwargs)


CONFLICT = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing"}, {"Code": "None"}]


# --- signup --------------------------------------------------------------------------------------


def test_signup_stores_the_user_and_returns_it_as_given(store):
    """A signup returns a fresh userId with the e-mail (trimmed) and username as given."""
    user = register(store, email="  Ada.Lovelace@Example.com ", username="Ada L")
    assert uuid.UUID(user.user_id)
    assert user.email == "Ada.Lovelace@Example.com"
    assert user.username == "Ada L"
    assert user.to_wire() == {
        "userId": user.user_id,
        "email": "Ada.Lovelace@Example.com",
        "username": "Ada L",
    }
    found = store.find_by_email("ada.lovelace@example.com")
    assert found is not None
    stored_user, password_hash = found
    assert stored_user == user
    assert verify_password(PASSWORD, password_hash)


def test_signup_gives_each_user_a_different_id(store):
    """Two users never share a userId."""
    first = register(store, email="one@example.com")
    second = register(store, email="two@example.com")
    assert first.user_id != second.user_id


def test_signup_refuses_email_taken_in_other_case(store, dynamodb, users_table):
    """An e-mail registered once cannot be registered again in any letter case."""
    register(store, email="ada@example.com")
    for variant in ("ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.Com", " ada@example.com"):
        with pytest.raises(EmailTaken):
            register(store, email=variant, username="Impostor")
    items = scan_all(dynamodb, users_table)
    # one e-mail claim, one profile and one username index entry: refusals write nothing
    assert len(items) == 3
    assert {i["username"]["S"] for i in items if "username" in i} == {"Ada"}


@pytest.mark.parametrize("vary_case", [False, True], ids=["same-case", "mixed-case"])
def test_concurrent_signups_with_one_email_have_exactly_one_winner(
    store, dynamodb, users_table, vary_case
):
    """Eight threads signing up one e-mail at once: one succeeds, seven get EmailTaken."""
    threads = 8
    barrier = threading.Barrier(threads)
    emails = [
        ("Race@Example.com" if i % 2 else "race@EXAMPLE.com") if vary_case else "race@example.com"
        for i in range(threads)
    ]

    def attempt(index: int) -> User | EmailTaken:
        request = parse_signup(
            {"email": emails[index], "password": PASSWORD, "username": f"u{index}"}
        )
        barrier.wait(timeout=10)
        try:
            return signup(store, request, ROUNDS)
        except EmailTaken as taken:
            return taken

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(attempt, range(threads)))

    winners = [o for o in outcomes if isinstance(o, User)]
    assert len(winners) == 1
    assert sum(isinstance(o, EmailTaken) for o in outcomes) == threads - 1
    items = scan_all(dynamodb, users_table)
    profiles = [i for i in items if i["sk"]["S"] == "profile"]
    claims = [i for i in items if i["sk"]["S"] == "claim"]
    assert len(profiles) == 1 and len(claims) == 1
    assert claims[0]["userId"]["S"] == profiles[0]["userId"]["S"] == winners[0].user_id


def test_concurrent_store_creates_with_one_email_have_exactly_one_winner(store, dynamodb):
    """The bare transaction, released together from 8 threads, still has one winner."""
    threads = 8
    barrier = threading.Barrier(threads)
    password_hash = hash_password(PASSWORD, ROUNDS)

    def attempt(index: int) -> str:
        user = User(str(uuid.uuid4()), "tight@example.com", f"u{index}")
        barrier.wait(timeout=10)
        try:
            store.create(user, password_hash)
        except EmailTaken:
            return "taken"
        return "won"

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(attempt, range(threads)))
    assert sorted(outcomes) == ["taken"] * (threads - 1) + ["won"]


def test_no_stored_attribute_contains_the_plain_password(store, dynamodb, users_table):
    """The password is stored only as a bcrypt hash."""
    register(store, password=PASSWORD)
    items = scan_all(dynamodb, users_table)
    assert items
    values = [v for item in items for attr in item.values() for v in attr.values()]
    assert all(PASSWORD not in str(v) for v in values)
    hashes = [i["passwordHash"]["S"] for i in items if "passwordHash" in i]
    assert len(hashes) == 1
    assert hashes[0].startswith("$2b$10$")


def test_signup_retries_a_transaction_conflict_and_succeeds(dynamodb, users_table):
    """A TransactionConflict cancellation is retried, and the retry stores the user."""
    client = ConflictingClient(dynamodb, CONFLICT, failures=1)
    user = register(UserStore(client, users_table))
    assert client.transactions == 2
    found = UserStore(dynamodb, users_table).find_by_email("ada@example.com")
    assert found is not None and found[0] == user


def test_signup_gives_up_after_repeated_conflicts_without_claiming_email_taken(
    dynamodb, users_table
):
    """Conflicts on every attempt surface as the AWS error, not as EmailTaken."""
    client = ConflictingClient(dynamodb, CONFLICT, failures=100)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        register(UserStore(client, users_table))
    assert client.transactions == 5
    assert scan_all(dynamodb, users_table) == []


def test_signup_does_not_retry_a_failed_email_condition(dynamodb, users_table):
    """A ConditionalCheckFailed on the e-mail claim is EmailTaken at once."""
    reasons = [{"Code": "ConditionalCheckFailed", "Message": "exists"}, {"Code": "None"}]
    client = ConflictingClient(dynamodb, reasons, failures=1)
    with pytest.raises(EmailTaken):
        register(UserStore(client, users_table))
    assert client.transactions == 1


# --- login ---------------------------------------------------------------------------------------


def test_login_issues_a_token_with_the_contract_claims(store):
    """A right password yields a HS256 token for the user, valid for ttl seconds."""
    user = register(store, email="Ada@Example.com", username="Ada")
    issued = int(time.time())
    result = log_in(store, email="ada@example.com", now=issued)
    assert result.user == user
    assert result.expires_in == 3600
    claims = jwt.decode(result.token, SECRET, algorithms=["HS256"])
    assert claims == {
        "sub": user.user_id,
        "username": "Ada",
        "email": "Ada@Example.com",
        "iat": issued,
        "exp": issued + 3600,
    }
    identity = verify_token(result.token, SECRET)
    assert (identity.user_id, identity.username, identity.email) == (
        user.user_id,
        "Ada",
        "Ada@Example.com",
    )
    assert result.to_wire() == {"token": result.token, "expiresIn": 3600, "user": user.to_wire()}


def test_login_ignores_email_case_and_surrounding_spaces(store):
    """Login finds the user whatever the letter case of the e-mail."""
    user = register(store, email="Ada@Example.com")
    assert log_in(store, email="  ADA@example.COM ").user.user_id == user.user_id


def test_login_refuses_an_unknown_email(store):
    """An e-mail nobody registered is INVALID_CREDENTIALS."""
    register(store)
    with pytest.raises(InvalidCredentials) as caught:
        log_in(store, email="nobody@example.com")
    assert caught.value.status == 401


def test_login_refuses_a_wrong_password_with_the_same_answer_as_an_unknown_email(store):
    """A wrong password gets exactly the error an unknown e-mail gets."""
    register(store)
    with pytest.raises(InvalidCredentials) as wrong:
        log_in(store, password=PASSWORD + "!")
    with pytest.raises(InvalidCredentials) as unknown:
        log_in(store, email="nobody@example.com")
    assert wrong.value.to_wire() == unknown.value.to_wire()
    assert PASSWORD not in wrong.value.message


def test_login_refuses_the_password_in_another_letter_case(store):
    """Passwords, unlike e-mails, are case-sensitive."""
    register(store)
    with pytest.raises(InvalidCredentials):
        log_in(store, password=PASSWORD.upper())


def test_login_refuses_a_lone_surrogate_password_for_a_known_email(store):
    """A password that cannot be UTF-8 encoded is a wrong password for a known e-mail."""
    register(store)
    with pytest.raises(InvalidCredentials):
        log_in(store, password="abcdefgh\ud800")


def test_login_refuses_a_lone_surrogate_password_for_an_unknown_email(store):
    """An unknown e-mail is INVALID_CREDENTIALS whatever the password, as for a known one."""
    with pytest.raises(InvalidCredentials):
        log_in(store, email="nobody@example.com", password="abcdefgh\ud800")


@pytest.mark.parametrize(
    ("registered", "look_alike"),
    [
        ("ada@example.com", "ａｄａ@ｅｘａｍｐｌｅ.ｃｏｍ"),  # fullwidth letters
        ("Straße@example.com", "STRASSE@example.com"),  # ß folds to ss
        ("ﬁnn@example.com", "finn@example.com"),  # the fi ligature
        ("Ǆemo@example.com", "ǆemo@example.com"),  # titlecase digraphs
    ],
)
def test_a_look_alike_email_is_the_same_account(store, registered, look_alike):
    """E-mails are compared after NFKC normalisation and case folding: a look-alike cannot
    register a second account, and logs into the first."""
    user = register(store, email=registered)
    with pytest.raises(EmailTaken):
        register(store, email=look_alike, username="Impostor")
    assert log_in(store, email=look_alike).user.user_id == user.user_id


def test_login_with_an_email_that_is_not_text_is_invalid_credentials(store):
    """An e-mail holding a lone surrogate could never register: the answer is 401, as for any
    unknown e-mail, not an error."""
    register(store)
    with pytest.raises(InvalidCredentials):
        log_in(store, email="ada\ud800@example.com")


# --- finding people (contract v2) --------------------------------------------------------------


def test_people_are_found_by_name_prefix_in_any_case_with_ids_and_names_only(store):
    """search() matches the start of the name ignoring case, sorted by name; Person has no
    e-mail."""
    for name, email in (
        ("Ada", "a1@x.io"),
        ("adam", "a2@x.io"),
        ("Bob", "b@x.io"),
        ("ad", "a3@x.io"),
    ):
        register(store, email=email, username=name)
    people, after = store.search("AD", 10, None)
    assert [p.username for p in people] == ["ad", "Ada", "adam"] and after is None
    assert all(set(vars(p)) == {"user_id", "username"} for p in people)
    assert store.search("ada ", 10, None) == ([], None)


def test_people_search_pages_each_user_once(store):
    """Paging with the returned position lists every match once; a foreign cursor gives none."""
    for n in range(5):
        register(store, email=f"p{n}@x.io", username=f"pat{n}")
    seen, after = [], None
    for _ in range(5):
        page, after = store.search("pat", 2, after)
        seen += [p.username for p in page]
        if after is None:
            break
    assert seen == [f"pat{n}" for n in range(5)]
    assert store.search("zed", 2, "pat1\x1fsomeone") == ([], None)


def test_people_reads_existing_profiles_only(store):
    """people() maps the ids that exist to their names and leaves the others out."""
    ada = register(store, email="ada@x.io", username="Ada")
    found = store.people([ada.user_id, "nobody", ada.user_id])
    assert list(found) == [ada.user_id] and found[ada.user_id].username == "Ada"


def test_people_search_folds_look_alike_names(store):
    """A fullwidth or ligature spelling finds the name, as e-mail addresses fold."""
    register(store, email="f@x.io", username="ﬁnn")
    register(store, email="w@x.io", username="ａｄａ")
    assert [p.username for p in store.search("fi", 10, None)[0]] == ["ﬁnn"]
    assert [p.username for p in store.search("ADA", 10, None)[0]] == ["ａｄａ"]
