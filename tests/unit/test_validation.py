"""Every rule of the input validation in lambdas/contract/validation.py (CONTRACT.md §2, §3)."""

from __future__ import annotations

import uuid

import pytest

from lambdas.contract.errors import InvalidJson, UnknownAction, ValidationFailed
from lambdas.contract.validation import (
    ACTIONS,
    DEFAULT_HISTORY_LIMIT,
    parse_action,
    parse_history,
    parse_json_object,
    parse_login,
    parse_room,
    parse_send,
    parse_signup,
)
from lambdas.domain.keys import message_sort_key


def signup_body(**overrides):
    body = {"email": "ada@example.com", "password": "correct horse", "username": "ada"}
    body.update(overrides)
    return body


def refused(parse, body, field):
    """Run ``parse`` on ``body``, which must be refused for ``field``; return the error."""
    with pytest.raises(ValidationFailed) as caught:
        parse(body)
    assert caught.value.field == field
    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.status == 400
    return caught.value


# --- parse_json_object ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["[]", "[1, 2]", "1", "3.5", '"text"', "null", "true", "false"],
    ids=["empty-list", "list", "int", "float", "string", "null", "true", "false"],
)
def test_json_that_is_not_an_object_is_invalid_json(text):
    """A body that is valid JSON but not an object is refused as INVALID_JSON."""
    with pytest.raises(InvalidJson) as caught:
        parse_json_object(text)
    assert caught.value.code == "INVALID_JSON"
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "text",
    [None, "", b"", "{", "{'a': 1}", "not json", '{"a": 1,}', b"\xff\xfe\x00", "{} extra"],
    ids=[
        "none",
        "empty",
        "empty-bytes",
        "open-brace",
        "single-quotes",
        "word",
        "comma",
        "bad-utf8",
        "trailing",
    ],
)
def test_text_that_is_not_json_is_invalid_json(text):
    """An empty body, malformed JSON or undecodable bytes are refused as INVALID_JSON."""
    with pytest.raises(InvalidJson):
        parse_json_object(text)


@pytest.mark.parametrize("text", ['{"a": 1, "b": "é"}', '{"a": 1, "b": "é"}'.encode()])
def test_json_object_is_parsed_from_text_and_utf8_bytes(text):
    """A JSON object parses to a dict whether it arrives as text or UTF-8 bytes."""
    assert parse_json_object(text) == {"a": 1, "b": "é"}


def test_deeply_nested_json_is_invalid_json_not_an_internal_error():
    """A deeply nested array (not an object) is INVALID_JSON, not an unhandled RecursionError."""
    with pytest.raises(InvalidJson):
        parse_json_object("[" * 100_000 + "]" * 100_000)


# --- parse_signup --------------------------------------------------------------------------------


def test_signup_accepts_a_valid_body():
    """A valid signup body yields its three fields unchanged."""
    request = parse_signup(signup_body())
    assert (request.email, request.password, request.username) == (
        "ada@example.com",
        "correct horse",
        "ada",
    )


def test_signup_trims_the_email_and_keeps_its_letter_case():
    """The e-mail is kept as given apart from surrounding whitespace."""
    assert parse_signup(signup_body(email="  Ada.Lovelace@Example.COM \n")).email == (
        "Ada.Lovelace@Example.COM"
    )


@pytest.mark.parametrize("field", ["email", "password", "username"])
def test_signup_refuses_a_missing_field(field):
    """A missing field is a VALIDATION_ERROR naming it."""
    body = signup_body()
    del body[field]
    refused(parse_signup, body, field)


@pytest.mark.parametrize("field", ["email", "password", "username"])
@pytest.mark.parametrize("value", [None, 12345678, ["a"], {"a": 1}, True])
def test_signup_refuses_a_field_that_is_not_a_string(field, value):
    """A null or non-string field is a VALIDATION_ERROR naming it."""
    refused(parse_signup, signup_body(**{field: value}), field)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada@ex@ample.com",
        "ada lovelace@example.com",
        "ada@exam ple.com",
        "ada@.example.com",
        "ada@example..com",
        "ada@example.com.",
    ],
)
def test_signup_refuses_an_invalid_email(email):
    """An e-mail without exactly one @, a dotted domain, or with spaces is refused."""
    refused(parse_signup, signup_body(email=email), "email")


def test_signup_accepts_an_email_of_254_characters():
    """254 characters is the longest e-mail accepted."""
    email = "a" * (254 - len("@example.com")) + "@example.com"
    assert len(email) == 254
    assert parse_signup(signup_body(email=email)).email == email


def test_signup_refuses_an_email_of_255_characters():
    """255 characters is one too many."""
    email = "a" * (255 - len("@example.com")) + "@example.com"
    refused(parse_signup, signup_body(email=email), "email")


@pytest.mark.parametrize("password", ["12345678", "éééééééé", "😀" * 8], ids=["ascii", "2b", "4b"])
def test_signup_accepts_a_password_of_8_characters(password):
    """Eight characters (not bytes) is the shortest password accepted."""
    assert parse_signup(signup_body(password=password)).password == password


@pytest.mark.parametrize(
    "password", ["1234567", "ééééééé", "😀" * 7, ""], ids=["ascii", "2b", "4b", "empty"]
)
def test_signup_refuses_a_password_under_8_characters(password):
    """Seven characters is refused even when they take more than 8 bytes."""
    refused(parse_signup, signup_body(password=password), "password")


@pytest.mark.parametrize(
    "password",
    ["a" * 72, "é" * 36, "€" * 24, "😀" * 18, "😀" * 17 + "€a"],
    ids=["1b", "2b", "3b", "4b", "mixed"],
)
def test_signup_accepts_a_password_of_72_utf8_bytes(password):
    """72 bytes in UTF-8 (bcrypt's limit) is the longest password accepted."""
    assert len(password.encode("utf-8")) == 72
    assert parse_signup(signup_body(password=password)).password == password


@pytest.mark.parametrize(
    "password",
    ["a" * 73, "é" * 36 + "a", "€" * 24 + "a", "😀" * 18 + "a", "a" * 71 + "é"],
    ids=["1b", "2b", "3b", "4b", "last-char-multibyte"],
)
def test_signup_refuses_a_password_of_73_utf8_bytes(password):
    """73 bytes is refused, however few characters that is."""
    assert len(password.encode("utf-8")) == 73
    error = refused(parse_signup, signup_body(password=password), "password")
    assert password not in error.message


def test_signup_refuses_a_password_that_cannot_be_encoded_in_utf8():
    """A password with a lone surrogate (JSON "\\ud800") is a VALIDATION_ERROR, not a crash."""
    refused(parse_signup, signup_body(password="abcdefgh\ud800"), "password")


def test_signup_refuses_an_email_that_cannot_be_encoded_in_utf8():
    """An e-mail with a lone surrogate (JSON "\\ud800") is a VALIDATION_ERROR."""
    refused(parse_signup, signup_body(email="ada\ud800@example.com"), "email")


@pytest.mark.parametrize("username", ["a", "x" * 32, "é" * 32, "  ada  ", "Ada Lovelace", "<b>"])
def test_signup_accepts_a_username_of_1_to_32_printable_characters(username):
    """1-32 printable characters, spaces included, are kept verbatim."""
    assert parse_signup(signup_body(username=username)).username == username


@pytest.mark.parametrize(
    "username",
    ["", "x" * 33, "é" * 33, " ", "    ", "ada\n", "\tada", "a\x00b", "a\x7fb", "a\u200bb"],
    ids=["empty", "33", "33-multibyte", "space", "spaces", "newline", "tab", "nul", "del", "zwsp"],
)
def test_signup_refuses_a_bad_username(username):
    """An empty, too long, blank or non-printable username is refused."""
    refused(parse_signup, signup_body(username=username), "username")


# --- parse_login ---------------------------------------------------------------------------------


def test_login_accepts_any_strings_and_trims_the_email():
    """Login checks only presence and type: a short password is a 401 later, not a 400."""
    request = parse_login({"email": "  Ada@Example.com ", "password": "x"})
    assert (request.email, request.password) == ("Ada@Example.com", "x")


@pytest.mark.parametrize("field", ["email", "password"])
def test_login_refuses_a_missing_field(field):
    """A missing login field is a VALIDATION_ERROR naming it."""
    body = {"email": "ada@example.com", "password": "correct horse"}
    del body[field]
    refused(parse_login, body, field)


@pytest.mark.parametrize("field", ["email", "password"])
@pytest.mark.parametrize("value", [None, 1, [], {}])
def test_login_refuses_a_field_that_is_not_a_string(field, value):
    """A null or non-string login field is a VALIDATION_ERROR naming it."""
    body = {"email": "ada@example.com", "password": "correct horse", field: value}
    refused(parse_login, body, field)


# --- parse_action --------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["sendMessage", "getMessages", "joinRoom", "leaveRoom"])
def test_action_accepts_every_routed_action(action):
    """The four routed actions are returned as given."""
    assert action in ACTIONS
    assert parse_action({"action": action, "unknown": "ignored"}) == action


@pytest.mark.parametrize(
    "frame",
    [
        {},
        {"action": None},
        {"action": ""},
        {"action": "sendmessage"},
        {"action": "$default"},
        {"action": 1},
        {"action": ["joinRoom"]},
        {"action": {"a": 1}},
        {"roomId": "general"},
    ],
)
def test_action_refuses_a_missing_or_unknown_action(frame):
    """No action, a non-string one, or one not routed is UNKNOWN_ACTION."""
    with pytest.raises(UnknownAction) as caught:
        parse_action(frame)
    assert caught.value.code == "UNKNOWN_ACTION"
    assert caught.value.field is None


def test_action_error_message_does_not_echo_a_huge_action():
    """The error names at most 64 characters of an unknown action."""
    with pytest.raises(UnknownAction) as caught:
        parse_action({"action": "z" * 10_000})
    assert "z" * 64 in caught.value.message
    assert "z" * 65 not in caught.value.message


# --- parse_room ----------------------------------------------------------------------------------


@pytest.mark.parametrize("room_id", ["a", "R" * 64, "general", "Room_1-x", "0", "-", "_"])
def test_room_accepts_1_to_64_allowed_characters(room_id):
    """roomId of 1-64 characters of A-Z a-z 0-9 _ - is accepted."""
    assert parse_room({"roomId": room_id}).room_id == room_id


@pytest.mark.parametrize(
    "room_id",
    ["", "R" * 65, "a b", "a/b", "a#b", "a.b", "a:b", "é", "room!", " general", "a\tb"],
)
def test_room_refuses_a_bad_room_id(room_id):
    """An empty, 65-character or otherwise badly formed roomId is refused."""
    refused(parse_room, {"roomId": room_id}, "roomId")


@pytest.mark.parametrize("frame", [{}, {"roomId": None}, {"roomId": 7}, {"roomId": ["a"]}])
def test_room_refuses_a_missing_or_non_string_room_id(frame):
    """A missing or non-string roomId is refused naming roomId."""
    refused(parse_room, frame, "roomId")


@pytest.mark.parametrize("room_id", ["general\n", "R" * 64 + "\n"], ids=["general", "65-chars"])
def test_room_refuses_a_room_id_with_a_trailing_newline(room_id):
    """A newline is not one of A-Z a-z 0-9 _ -, even at the end."""
    refused(parse_room, {"roomId": room_id}, "roomId")


# --- parse_send ----------------------------------------------------------------------------------


def test_send_keeps_the_message_verbatim_and_defaults_client_message_id_to_none():
    """HTML and whitespace are text; without clientMessageId it is None."""
    text = '  <b>bold</b> & "quotes"\n\ttabs  '
    request = parse_send({"roomId": "general", "message": text})
    assert request.message == text
    assert request.client_message_id is None
    assert request.room_id == "general"


@pytest.mark.parametrize("text", ["x", "x" * 4000, "😀" * 4000], ids=["1", "4000", "4000-emoji"])
def test_send_accepts_a_message_of_1_to_4000_code_points(text):
    """Length counts Unicode code points, not bytes: 4000 emoji are allowed."""
    assert parse_send({"roomId": "r", "message": text}).message == text


@pytest.mark.parametrize("text", ["", "x" * 4001, "😀" * 4001], ids=["empty", "4001", "4001-emoji"])
def test_send_refuses_an_empty_or_too_long_message(text):
    """An empty message or one of 4001 code points is refused."""
    refused(parse_send, {"roomId": "r", "message": text}, "message")


@pytest.mark.parametrize("value", [None, 1, ["x"], {"t": "x"}])
def test_send_refuses_a_missing_or_non_string_message(value):
    """A null or non-string message is refused naming message."""
    refused(parse_send, {"roomId": "r", "message": value}, "message")
    refused(parse_send, {"roomId": "r"}, "message")


def test_send_checks_the_room_id():
    """sendMessage applies the roomId rule."""
    refused(parse_send, {"roomId": "no spaces", "message": "x"}, "roomId")


@pytest.mark.parametrize("client_id", ["a", "c" * 64, "abc.DEF:123_-x", "2024-01-01T00:00:00.000"])
def test_send_accepts_a_client_message_id_of_1_to_64_allowed_characters(client_id):
    """clientMessageId of 1-64 characters of A-Z a-z 0-9 _ - . : is kept."""
    request = parse_send({"roomId": "r", "message": "x", "clientMessageId": client_id})
    assert request.client_message_id == client_id


def test_send_treats_a_null_client_message_id_as_absent():
    """clientMessageId null is the same as no clientMessageId."""
    request = parse_send({"roomId": "r", "message": "x", "clientMessageId": None})
    assert request.client_message_id is None


@pytest.mark.parametrize("client_id", ["", "c" * 65, "a b", "a/b", "a#b", "é", 5, ["a"], True])
def test_send_refuses_a_bad_client_message_id(client_id):
    """An empty, too long, badly formed or non-string clientMessageId is refused."""
    frame = {"roomId": "r", "message": "x", "clientMessageId": client_id}
    refused(parse_send, frame, "clientMessageId")


def test_send_refuses_a_client_message_id_with_a_trailing_newline():
    """A newline is not an allowed clientMessageId character, even at the end."""
    frame = {"roomId": "r", "message": "x", "clientMessageId": "retry-1\n"}
    refused(parse_send, frame, "clientMessageId")


def test_send_refuses_a_message_that_cannot_be_encoded_in_utf8():
    """A message with a lone surrogate (JSON "\\ud800") is refused, so it never poisons fan-out."""
    refused(parse_send, {"roomId": "r", "message": "hi \ud800"}, "message")


# --- parse_history -------------------------------------------------------------------------------


def test_history_defaults_to_50_messages_and_no_cursor():
    """Without limit and before, a page is 50 messages from the newest."""
    request = parse_history({"roomId": "general"})
    assert (request.room_id, request.limit, request.before) == ("general", 50, None)
    assert DEFAULT_HISTORY_LIMIT == 50


@pytest.mark.parametrize("limit", [1, 2, 99, 100])
def test_history_accepts_a_limit_from_1_to_100(limit):
    """An integer limit from 1 to 100 is accepted."""
    assert parse_history({"roomId": "r", "limit": limit}).limit == limit


@pytest.mark.parametrize(
    "limit",
    [0, -1, 101, 1000, True, False, "10", 10.0, 1.5, None, [10]],
    ids=["0", "-1", "101", "1000", "true", "false", "str", "float", "fraction", "null", "list"],
)
def test_history_refuses_a_bad_limit(limit):
    """A limit outside 1-100, a bool, a string or a float is refused naming limit."""
    refused(parse_history, {"roomId": "r", "limit": limit}, "limit")


def test_history_accepts_a_cursor_shaped_like_next_before():
    """A cursor built as the store builds nextBefore is accepted verbatim."""
    cursor = message_sort_key(1_700_000_000_123, str(uuid.uuid4()))
    assert parse_history({"roomId": "r", "before": cursor}).before == cursor


def test_history_treats_a_null_cursor_as_absent():
    """before null asks for the newest page."""
    assert parse_history({"roomId": "r", "before": None}).before is None


@pytest.mark.parametrize(
    "before",
    [
        "",
        "abc",
        "170000000012#" + "0" * 36,
        "17000000001234#" + "0" * 36,
        "1700000000123#" + "0" * 35,
        "1700000000123#" + "A" * 36,
        "1700000000123-" + "0" * 36,
        "x1700000000123#" + "0" * 36,
        1700000000123,
        ["1700000000123#" + "0" * 36],
    ],
    ids=[
        "empty",
        "word",
        "12-digits",
        "14-digits",
        "short-id",
        "upper-hex",
        "no-hash",
        "prefix",
        "int",
        "list",
    ],
)
def test_history_refuses_a_cursor_of_another_shape(before):
    """A before value not shaped like a nextBefore cursor is refused naming before."""
    refused(parse_history, {"roomId": "r", "before": before}, "before")


def test_history_checks_the_room_id():
    """getMessages applies the roomId rule."""
    refused(parse_history, {"roomId": "", "limit": 10}, "roomId")


# --- chats (contract v2) ------------------------------------------------------------------------


def test_send_and_history_name_a_chat_instead_of_a_room():
    """chatId instead of roomId: the request names the chat and no room."""
    send = parse_send({"chatId": "g-1", "message": "hi"})
    assert (send.chat_id, send.room_id) == ("g-1", None)
    history = parse_history({"chatId": "g-1", "limit": 3})
    assert (history.chat_id, history.room_id, history.limit) == ("g-1", None, 3)


@pytest.mark.parametrize("parse", [parse_send, parse_history], ids=["send", "history"])
@pytest.mark.parametrize(
    "frame",
    [
        {"chatId": "g-1", "roomId": "general"},
        {"chatId": "has space"},
        {"chatId": "x" * 65},
        {"chatId": 5},
        {"chatId": ""},
    ],
    ids=["both", "space", "long", "number", "empty"],
)
def test_a_frame_names_one_well_formed_chat(parse, frame):
    """Both roomId and chatId, or a malformed chatId, is a VALIDATION_ERROR on chatId."""
    refused(parse, {"message": "hi", **frame}, "chatId")


def test_a_null_chat_id_is_a_room_frame():
    """chatId: null is as if absent (a v1 frame), so roomId is required."""
    refused(parse_send, {"chatId": None, "message": "hi"}, "roomId")
