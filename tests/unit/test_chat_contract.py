"""Contract v2's requests and chat objects (lambdas/contract/chats.py) against CONTRACT.md §4-§6."""

from __future__ import annotations

import pytest

from lambdas.contract.chats import (
    ChatDetail,
    ChatSummary,
    DirectChatRequest,
    GroupChatRequest,
    LastMessage,
    Page,
    Person,
    decode_cursor,
    encode_cursor,
    inbox_cursor,
    parse_add_participants,
    parse_create_chat,
    parse_mark_read,
    parse_page,
    parse_prefix,
    parse_room_prefix,
)
from lambdas.contract.errors import TooManyParticipants, ValidationFailed

ME = "user-me"


def refused(call, *args, field=None):
    with pytest.raises(ValidationFailed) as raised:
        call(*args)
    if field is not None:
        assert raised.value.field == field, raised.value.to_wire()
    return raised.value


def test_a_direct_chat_names_one_other_user():
    """{"type": "direct", "userId"} parses; the caller's own id is refused on userId."""
    assert parse_create_chat({"type": "direct", "userId": "u-1"}, ME, 50) == DirectChatRequest(
        "u-1"
    )
    error = refused(parse_create_chat, {"type": "direct", "userId": ME}, ME, 50, field="userId")
    assert "another user" in error.message


@pytest.mark.parametrize("user_id", [None, 7, "", "has space", "x" * 65, ["u"]])
def test_a_direct_chat_needs_a_well_formed_user_id(user_id):
    """userId must be 1-64 characters of A-Z a-z 0-9 _ -."""
    refused(parse_create_chat, {"type": "direct", "userId": user_id}, ME, 50, field="userId")


def test_a_group_keeps_its_others_in_order_without_repeats_or_the_creator():
    """participants: duplicates and the creator's own id are dropped, order kept."""
    body = {"type": "group", "name": "Lab", "participants": ["b", "a", "b", ME, "c"]}
    assert parse_create_chat(body, ME, 50) == GroupChatRequest("Lab", ("b", "a", "c"))


@pytest.mark.parametrize("name", [None, 5, "", "   ", "x" * 65, "tab\there", "\ud800"], ids=repr)
def test_a_group_needs_a_printable_name(name):
    """name: 1-64 printable characters, not only spaces, valid Unicode."""
    refused(
        parse_create_chat,
        {"type": "group", "name": name, "participants": ["b"]},
        ME,
        50,
        field="name",
    )


def test_a_group_needs_someone_else_and_at_most_the_limit_checked_first():
    """No other participant is VALIDATION_ERROR; more than N-1 distinct others is
    TooManyParticipants, whatever the ids (checked before any lookup)."""
    refused(
        parse_create_chat,
        {"type": "group", "name": "g", "participants": [ME]},
        ME,
        5,
        field="participants",
    )
    assert parse_create_chat({"type": "group", "name": "g", "participants": list("abcd")}, ME, 5)
    with pytest.raises(TooManyParticipants):
        parse_create_chat({"type": "group", "name": "g", "participants": list("abcde")}, ME, 5)


@pytest.mark.parametrize(
    "participants", ["a", {"a": 1}, [1], [None], ["ok", "bad id"], ["u"] * 201], ids=repr
)
def test_participants_must_be_a_bounded_list_of_user_ids(participants):
    """participants: a JSON list of at most 200 user ids."""
    body = {"type": "group", "name": "g", "participants": participants}
    refused(parse_create_chat, body, ME, 50, field="participants")


@pytest.mark.parametrize("kind", [None, "", "Direct", "channel", 1])
def test_the_type_must_be_direct_or_group(kind):
    """type is required and is "direct" or "group"."""
    refused(parse_create_chat, {"type": kind}, ME, 50, field="type")


def test_adding_participants_needs_others_within_the_limit():
    """userIds: others only; none is VALIDATION_ERROR; more than N-1 TooManyParticipants."""
    assert parse_add_participants({"userIds": ["a", ME, "a"]}, ME, 5).user_ids == ("a",)
    refused(parse_add_participants, {"userIds": [ME]}, ME, 5, field="userIds")
    refused(parse_add_participants, {}, ME, 5, field="userIds")
    with pytest.raises(TooManyParticipants):
        parse_add_participants({"userIds": list("abcde")}, ME, 5)


@pytest.mark.parametrize("seq", [None, -1, 1.5, "3", True, 2**53])
def test_a_read_marker_is_a_non_negative_integer(seq):
    """seq: an integer from 0 (booleans and strings are not)."""
    refused(parse_mark_read, {"seq": seq}, field="seq")
    assert parse_mark_read({"seq": 0}) == 0


def test_cursors_round_trip_and_refuse_what_the_api_never_gave():
    """encode/decode are inverse for any position; garbage, empty or huge cursors are refused."""
    for position in ("0000000000001#g-1", "ada\x1fuser-1", "émoji 😀#x"):
        assert decode_cursor(encode_cursor(position)) == position
    for bad in ("", "%%%", "a" * 513, "////", "=="):
        refused(decode_cursor, bad, field="cursor")


def test_pages_have_a_bounded_limit():
    """limit: 1-50, default 20, digits only; the cursor is decoded."""
    assert parse_page({}) == Page(20, None)
    assert parse_page({"limit": "50", "cursor": encode_cursor("p")}) == Page(50, "p")
    for limit in ("0", "51", "-1", "1.0", "ten", "", "9999999"):
        refused(parse_page, {"limit": limit}, field="limit")


def test_a_chat_list_cursor_names_a_place_in_a_chat_list():
    """A cursor of another listing (a name, say) is refused for GET /chats."""
    assert inbox_cursor(Page(5, "1700000000000#g-1")) == "1700000000000#g-1"
    assert inbox_cursor(Page(5, None)) is None
    refused(inbox_cursor, Page(5, "ada\x1fuser-1"), field="cursor")


def test_prefixes_are_bounded():
    """User search needs 1-64 printable characters; the directory 0-64 room-id characters."""
    assert parse_prefix({"prefix": "Ad"}, required=True) == "Ad"
    for query in ({}, {"prefix": ""}, {"prefix": "x" * 65}, {"prefix": "a\nb"}):
        refused(lambda q: parse_prefix(q, required=True), query, field="prefix")
    assert parse_prefix({}, required=False) == ""
    assert parse_room_prefix({}) == "" and parse_room_prefix({"prefix": "Lab_1-"}) == "Lab_1-"
    refused(parse_room_prefix, {"prefix": "has space"}, field="prefix")


def test_a_chat_object_has_the_contract_fields_and_never_a_negative_unread_count():
    """to_wire uses the contract's names; unreadCount = lastSeq - readSeq, at least 0."""
    last = LastMessage("m-1", "u-2", "bob", "hi", 1_700_000_000_000, 3)
    summary = ChatSummary(
        "d-1", "direct", None, Person("u-2", "bob"), 1, 2, last, last_seq=3, read_seq=1
    )
    wire = ChatDetail(summary, (Person("u-1", "ada"), Person("u-2", "bob"))).to_wire()
    assert wire["unreadCount"] == 2 and wire["peer"] == {"userId": "u-2", "username": "bob"}
    assert wire["lastMessage"] == {
        "messageId": "m-1",
        "userId": "u-2",
        "username": "bob",
        "preview": "hi",
        "timestamp": 1_700_000_000_000,
        "seq": 3,
    }
    assert wire["participants"][0] == {"userId": "u-1", "username": "ada"}
    ahead = ChatSummary("d-1", "direct", None, None, 1, 2, None, last_seq=3, read_seq=9)
    assert ahead.unread_count == 0
