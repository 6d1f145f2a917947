"""Item keys of the four tables (see reference_stack/stack.json for the tables themselves).

Every table has a string partition key ``pk`` and a string sort key ``sk``; the prefix of ``pk``
says what kind of item it is.
"""

from __future__ import annotations

from lambdas.contract.validation import email_identity

__all__ = [
    "attachment_key",
    "chat_meta_key",
    "chat_partition",
    "connection_key",
    "dedupe_key",
    "directory_entry_key",
    "email_key",
    "inbox_order",
    "member_key",
    "membership_key",
    "message_sort_key",
    "presence_key",
    "room_marker_key",
    "room_markers_partition",
    "room_partition",
    "typing_gate_key",
    "user_key",
    "user_rooms_key",
    "username_partition",
    "username_sort_key",
]

NAME_SEPARATOR = "\x1f"
DIRECTORY_PARTITION = "roomdir"
MEMBER_PREFIX = "member#"


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


def username_partition(folded: str) -> str:
    """Users table: the partition of the username index holding the names that start like
    ``folded`` (a case-folded name or prefix: its first character picks the partition)."""
    return f"uname#{folded[:1]}"


def username_sort_key(folded: str, user_id: str) -> str:
    """Users table: a user's place in the username index, by case-folded name. The separator
    sorts before every printable character and never occurs in a username, so ``ada`` comes
    before ``ada b`` and a prefix never matches across it."""
    return f"{folded}{NAME_SEPARATOR}{user_id}"


def presence_key(user_id: str) -> dict[str, dict[str, str]]:
    """Connections table: the set of one user's open connections."""
    return {"pk": {"S": f"user#{user_id}"}, "sk": {"S": "conns"}}


def chat_partition(chat_id: str) -> str:
    """Chats table (the chat and its participants) and Messages table (its history)."""
    return f"chat#{chat_id}"


def chat_meta_key(chat_id: str) -> dict[str, dict[str, str]]:
    """Chats table: a chat itself (type, name, participant count, message sequence)."""
    return {"pk": {"S": chat_partition(chat_id)}, "sk": {"S": "meta"}}


def member_key(chat_id: str, user_id: str) -> dict[str, dict[str, str]]:
    """Chats table: one participant of a chat, also their entry in their chat list."""
    return {"pk": {"S": chat_partition(chat_id)}, "sk": {"S": f"{MEMBER_PREFIX}{user_id}"}}


def inbox_order(last_activity: int, chat_id: str) -> str:
    """Chats table, index ``inbox``: orders a user's chats by last activity (newest last)."""
    return f"{last_activity:013d}#{chat_id}"


def user_rooms_key(user_id: str) -> dict[str, dict[str, str]]:
    """Chats table: the rooms a user belongs to (every new connection starts joined to them)."""
    return {"pk": {"S": f"user#{user_id}"}, "sk": {"S": "rooms"}}


def directory_entry_key(room_id: str) -> dict[str, dict[str, str]]:
    """Chats table: a room's entry in the directory of rooms, sorted by the lower-case id."""
    return {"pk": {"S": DIRECTORY_PARTITION}, "sk": {"S": f"{room_id.lower()}#{room_id}"}}


def room_markers_partition(room_id: str) -> str:
    """Chats table: the receipt markers of one room's members (one item per member)."""
    return f"roomreceipts#{room_id}"


def room_marker_key(room_id: str, user_id: str) -> dict[str, dict[str, str]]:
    """Chats table: one member's receipt markers in a room (the newest positions delivered to
    and read by them)."""
    return {"pk": {"S": room_markers_partition(room_id)}, "sk": {"S": f"user#{user_id}"}}


def typing_gate_key(chat_id: str, user_id: str, state: str) -> dict[str, dict[str, str]]:
    """Connections table: when a user may next send a typing ``state`` to a chat (a rate limit,
    expiring with the table's TTL)."""
    return {"pk": {"S": f"typing#{chat_id}#{user_id}"}, "sk": {"S": state}}


def attachment_key(object_key: str, partition: str) -> dict[str, dict[str, str]]:
    """Messages table: one uploaded file posted in one room or chat (``partition``: its
    ``room_partition`` or ``chat_partition``), which tells who may download it."""
    return {"pk": {"S": f"attachment#{object_key}"}, "sk": {"S": partition}}
