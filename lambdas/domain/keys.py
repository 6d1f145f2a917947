"""Item keys of the three tables (see reference_stack/stack.json for the tables themselves).

Every table has a string partition key ``pk`` and a string sort key ``sk``; the prefix of ``pk``
says what kind of item it is.
"""

from __future__ import annotations

from lambdas.contract.validation import email_identity

__all__ = [
    "connection_key",
    "dedupe_key",
    "email_key",
    "membership_key",
    "message_sort_key",
    "room_partition",
    "user_key",
]


def user_key(user_id: str) -> dict[str, dict[str, str]]:
    """Users table: the profile of one user."""
    return {"pk": {"S": f"user#{user_id}"}, "sk": {"S": "profile"}}


def email_key(email: str) -> dict[str, dict[str, str]]:
    """Users table: the claim that makes an e-mail address unique, keyed by its identity
    (``email_identity``: case-folded, look-alikes normalised)."""
    return {"pk": {"S": f"email#{email_identity(email)}"}, "sk": {"S": "claim"}}


def room_partition(room_id: str) -> str:
    """Messages table (history) and Connections table (members): one room's partition."""
    return f"room#{room_id}"


def message_sort_key(timestamp: int, message_id: str) -> str:
    """Messages table: orders a room's history by time; it is also the paging cursor."""
    return f"{timestamp:013d}#{message_id}"


def dedupe_key(user_id: str, client_message_id: str) -> dict[str, dict[str, str]]:
    """Messages table: the claim on one (user, clientMessageId) pair."""
    return {"pk": {"S": f"dedupe#{user_id}#{client_message_id}"}, "sk": {"S": "claim"}}


def connection_key(connection_id: str) -> dict[str, dict[str, str]]:
    """Connections table: one connection, with its user and the set of rooms it joined."""
    return {"pk": {"S": f"conn#{connection_id}"}, "sk": {"S": "meta"}}


def membership_key(room_id: str, connection_id: str) -> dict[str, dict[str, str]]:
    """Connections table: one connection's membership of one room."""
    return {"pk": {"S": room_partition(room_id)}, "sk": {"S": f"conn#{connection_id}"}}
