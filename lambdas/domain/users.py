"""Users: sign up (unique e-mail, also under races), log in, find people by username prefix.

The username index is one item per user (``keys.username_partition`` / ``username_sort_key``:
the case-folded name, then the id), written in the signup transaction: a prefix search is one
Query of one partition, and only ids and names are ever read from it.
"""

from __future__ import annotations

import time
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from lambdas.contract.chats import Person
from lambdas.contract.errors import EmailTaken, InvalidCredentials
from lambdas.contract.validation import LoginRequest, SignupRequest, is_text
from lambdas.domain import keys
from lambdas.domain.batch import batch_get
from lambdas.domain.paging import query_one_more
from lambdas.domain.passwords import hash_password, verify_against_nothing, verify_password
from lambdas.domain.retry import retry_transaction_conflicts
from lambdas.domain.tokens import Identity, issue_token

__all__ = ["LoginResult", "User", "UserStore", "login", "signup", "username_key"]


def username_key(name: str) -> str:
    """How the index compares names: caseless and look-alikes folded (NFKC, case folding, NFKC:
    ``Ada``, ``ADA`` and fullwidth ``ａｄａ`` are equal), as e-mail addresses are."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def username_entry(user_id: str, username: str) -> dict[str, dict[str, str]]:
    """The username index item of one user."""
    folded = username_key(username)
    return {
        "pk": {"S": keys.username_partition(folded)},
        "sk": {"S": keys.username_sort_key(folded, user_id)},
        "userId": {"S": user_id},
        "username": {"S": username},
    }


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    username: str

    def to_wire(self) -> dict[str, str]:
        return {"userId": self.user_id, "email": self.email, "username": self.username}


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_in: int
    user: User

    def to_wire(self) -> dict[str, Any]:
        return {"token": self.token, "expiresIn": self.expires_in, "user": self.user.to_wire()}


class UserStore:
    """The Users table, over a boto3 DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def create(self, user: User, password_hash: str) -> None:
        """Store ``user`` and claim its e-mail in one transaction.

        Raises:
            EmailTaken: the e-mail (any letter case, or a look-alike) is already claimed.
        """
        now = str(int(time.time() * 1000))
        profile = {
            **keys.user_key(user.user_id),
            "userId": {"S": user.user_id},
            "email": {"S": user.email},
            "username": {"S": user.username},
            "passwordHash": {"S": password_hash},
            "createdAt": {"N": now},
        }
        claim = {**keys.email_key(user.email), "userId": {"S": user.user_id}}
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for item in (claim, profile, username_entry(user.user_id, user.username))
        ]
        try:
            retry_transaction_conflicts(lambda: self._db.transact_write_items(TransactItems=items))
        except self._db.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                raise EmailTaken() from None
            raise

    def find_by_email(self, email: str) -> tuple[User, str] | None:
        """The user who claimed ``email`` and their password hash, or None."""
        claim = self._db.get_item(
            TableName=self._table, Key=keys.email_key(email), ConsistentRead=True
        ).get("Item")
        if claim is None:
            return None
        profile = self._db.get_item(
            TableName=self._table, Key=keys.user_key(claim["userId"]["S"]), ConsistentRead=True
        ).get("Item")
        if profile is None:
            return None
        user = User(profile["userId"]["S"], profile["email"]["S"], profile["username"]["S"])
        return user, profile["passwordHash"]["S"]

    def people(self, user_ids: list[str]) -> dict[str, Person]:
        """The users among ``user_ids`` that exist, by id (strongly consistent; profiles are read
        without their e-mail or password hash)."""
        wanted = [keys.user_key(u) for u in dict.fromkeys(user_ids)]
        items = batch_get(
            self._db,
            self._table,
            wanted,
            "#id, #name",
            names={"#id": "userId", "#name": "username"},
        )
        return {i["userId"]["S"]: Person(i["userId"]["S"], i["username"]["S"]) for i in items}

    def search(self, prefix: str, limit: int, after: str | None) -> tuple[list[Person], str | None]:
        """Users whose name starts with ``prefix`` (any letter case), by name, after the position
        ``after``; returns up to ``limit`` and the position of the next page (or None)."""
        folded = username_key(prefix)
        condition = "pk = :pk AND begins_with(sk, :prefix)"
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.username_partition(folded)},
                ":prefix": {"S": folded},
            },
            "ConsistentRead": True,
        }
        if after is not None:
            if not after.startswith(folded) or keys.NAME_SEPARATOR not in after:
                return [], None  # a cursor of another search: nothing follows it here
            partition = keys.username_partition(folded)
            query["ExclusiveStartKey"] = {"pk": {"S": partition}, "sk": {"S": after}}
        items = query_one_more(self._db, query, limit)
        shown = items[:limit]
        people = [Person(i["userId"]["S"], i["username"]["S"]) for i in shown]
        return people, shown[-1]["sk"]["S"] if len(items) > limit else None


def signup(store: UserStore, request: SignupRequest, bcrypt_rounds: int) -> User:
    """Register a new user.

    Raises:
        EmailTaken: the e-mail is already registered.
    """
    user = User(user_id=str(uuid.uuid4()), email=request.email, username=request.username)
    store.create(user, hash_password(request.password, bcrypt_rounds))
    return user


def login(
    store: UserStore,
    request: LoginRequest,
    *,
    secret: str,
    ttl_seconds: int,
    bcrypt_rounds: int,
    now: int | None = None,
) -> LoginResult:
    """Check the credentials and issue a token.

    Raises:
        InvalidCredentials: unknown e-mail or wrong password, indistinguishably.
    """
    # An e-mail that is not valid text (a lone surrogate) was never registered: not looked up.
    found = store.find_by_email(request.email) if is_text(request.email) else None
    if found is None:
        verify_against_nothing(request.password, bcrypt_rounds)
        raise InvalidCredentials()
    user, password_hash = found
    if not verify_password(request.password, password_hash):
        raise InvalidCredentials()
    identity = Identity(user_id=user.user_id, username=user.username, email=user.email)
    issued_at = int(time.time()) if now is None else now
    token = issue_token(identity, secret, ttl_seconds, issued_at)
    return LoginResult(token=token, expires_in=ttl_seconds, user=user)
