"""What a user does with chats (contract v2), across the stores: create one, add people, send
to it, read its history. The stores check participation; this module names the people."""

from __future__ import annotations

from collections.abc import Callable

from lambdas.contract.chats import (
    ChatDetail,
    DirectChatRequest,
    GroupChatRequest,
    Person,
)
from lambdas.contract.errors import UserNotFound
from lambdas.contract.frames import Message
from lambdas.contract.validation import HistoryRequest, SendRequest
from lambdas.domain.chats import ChatStore
from lambdas.domain.connections import ConnectionStore
from lambdas.domain.identity import Identity
from lambdas.domain.messages import MessageStore, fit_history_page
from lambdas.domain.users import UserStore

__all__ = ["add_participants", "chat_history", "create_chat", "send_to_chat"]


def _named(found: dict[str, Person], user_ids: list[str], field: str) -> list[Person]:
    """The users ``user_ids`` name, in order, from those ``found``.

    Raises:
        UserNotFound: one of them does not exist (named, with ``field``).
    """
    for user_id in user_ids:
        if user_id not in found:
            raise UserNotFound(f"no user has the id {user_id!r}", field=field)
    return [found[user_id] for user_id in user_ids]


def create_chat(
    chats: ChatStore,
    users: UserStore,
    who: Identity,
    request: DirectChatRequest | GroupChatRequest,
) -> tuple[ChatDetail, bool]:
    """Create the chat ``request`` asks for; returns it and whether it is new (a direct chat
    that exists already is returned as it is)."""
    me = Person(who.user_id, who.username)
    if isinstance(request, DirectChatRequest):
        (other,) = _named(users.people([request.user_id]), [request.user_id], "userId")
        return chats.create_direct(me, other)
    wanted = list(request.participants)
    others = _named(users.people(wanted), wanted, "participants")
    return chats.create_group(me, request.name, others), True


def add_participants(
    chats: ChatStore, users: UserStore, who: Identity, chat_id: str, user_ids: list[str]
) -> ChatDetail:
    """Add ``user_ids`` to a group ``who`` is in."""
    chats.member(chat_id, who.user_id)  # a non-participant learns nothing, not even the users
    return chats.add(chat_id, who.user_id, _named(users.people(user_ids), user_ids, "userIds"))


def send_to_chat(
    connections: ConnectionStore,
    chats: ChatStore,
    messages: MessageStore,
    connection_id: str,
    request: SendRequest,
    before_storing: Callable[[str], None] = lambda user_id: None,
) -> tuple[Message, bool]:
    """Store a message to a chat the connection's user is in; returns it and whether it
    repeats an earlier ``clientMessageId``. ``before_storing(user_id)`` runs once the user is
    known to be a participant (the media profile checks the attachments there).

    Raises:
        ChatNotFound: no such chat, or the user is not (or no longer) a participant.
    """
    assert request.chat_id is not None
    chat_id = request.chat_id
    who = connections.identity(connection_id)
    chats.member(chat_id, who.user_id)
    before_storing(who.user_id)
    return messages.put(
        None,
        who.user_id,
        who.username,
        request.message,
        request.client_message_id,
        chat_id=chat_id,
        next_seq=lambda: chats.next_seq(chat_id),
        attachments=request.attachments,
    )


def chat_history(
    chats: ChatStore, messages: MessageStore, user_id: str, request: HistoryRequest
) -> tuple[list[Message], str | None]:
    """A page of a chat's history, for one of its participants.

    Raises:
        ChatNotFound: no such chat, or ``user_id`` is not a participant.
    """
    assert request.chat_id is not None
    chats.member(request.chat_id, user_id)
    page, next_before = messages.history(
        None, request.limit, request.before, chat_id=request.chat_id
    )
    # Pages stop under API Gateway's 128 KB frame limit, over REST as over the WebSocket, so
    # both page alike ("chatId" and "roomId" are as long: the room's fitting is the chat's).
    return fit_history_page(request.chat_id, page, next_before)
