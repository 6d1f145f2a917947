"""Property-based fuzzing (Hypothesis) of the pure contract code: validation, frames, route
selection and the frame-size guard. Whatever comes in, the answer is a typed request or a
``ChatError`` — never another exception — and what passes validation is within the contract's
bounds."""

from __future__ import annotations

import json
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdas.contract.errors import ChatError
from lambdas.contract.frames import Message, encode, error_frame, message_frame
from lambdas.contract.validation import (
    ACTIONS,
    MAX_HISTORY_LIMIT,
    MAX_MESSAGE_CHARS,
    email_identity,
    parse_action,
    parse_history,
    parse_json_object,
    parse_login,
    parse_room,
    parse_send,
    parse_signup,
)
from reference_stack.local.events import route_key
from reference_stack.local.frame_limit import FrameSizeLimit

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
FIELDS = [
    "action",
    "roomId",
    "message",
    "clientMessageId",
    "limit",
    "before",
    "email",
    "password",
    "username",
]
bodies = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=8),
    json_values
    | st.sampled_from([*ACTIONS, "general", "a" * 64, "a" * 65, "0000000000001#" + "a" * 36]),
    max_size=6,
)

ROOM_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _typed_or_chat_error(parse, body):
    try:
        return parse(body)
    except ChatError as error:
        assert error.code and error.message and 400 <= error.status < 600
        return None


@FUZZ
@given(st.one_of(st.text(), st.binary(), st.none()))
def test_any_body_is_an_object_or_invalid_json(raw):
    """Any text or bytes parse to a dict, or raise INVALID_JSON — nothing else."""
    parsed = _typed_or_chat_error(parse_json_object, raw)
    assert parsed is None or isinstance(parsed, dict)


@FUZZ
@given(bodies)
def test_frames_pass_validation_only_within_the_contracts_bounds(body):
    """Every WebSocket frame validator answers a request within bounds, or a ChatError."""
    room = _typed_or_chat_error(parse_room, body)
    if room is not None:
        assert 1 <= len(room.room_id) <= 64 and set(room.room_id) <= ROOM_CHARS
    send = _typed_or_chat_error(parse_send, body)
    if send is not None:
        assert 1 <= len(send.message) <= MAX_MESSAGE_CHARS
        send.message.encode("utf-8")  # storable: no lone surrogate
        assert send.client_message_id is None or 1 <= len(send.client_message_id) <= 64
    history = _typed_or_chat_error(parse_history, body)
    if history is not None:
        assert 1 <= history.limit <= MAX_HISTORY_LIMIT and not isinstance(history.limit, bool)
    action = _typed_or_chat_error(parse_action, body)
    assert action is None or action in ACTIONS


@FUZZ
@given(bodies)
def test_rest_bodies_pass_validation_only_within_the_contracts_bounds(body):
    """Signup and login answer a request, or a ChatError; a valid signup is storable."""
    signup = _typed_or_chat_error(parse_signup, body)
    if signup is not None:
        assert len(signup.password.encode("utf-8")) <= 72 and len(signup.password) >= 8
        assert 1 <= len(signup.username) <= 32 and signup.username.strip()
        assert "@" in signup.email
    login = _typed_or_chat_error(parse_login, body)
    assert login is None or isinstance(login.email, str)


@FUZZ
@given(st.text(max_size=80))
def test_an_email_identity_is_stable(email):
    """Normalising twice changes nothing: a stored identity is found again."""
    once = email_identity(email)
    assert email_identity(once) == once
    assert email_identity(email.upper().lower()) == email_identity(email.lower())


text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=200)


@FUZZ
@given(
    text,
    st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    text,
    st.integers(0, 2**53),
    st.none() | st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True),
)
def test_a_broadcast_frame_round_trips_as_utf8_json(message_id, room, body, timestamp, client_id):
    """The frame every member receives decodes back to exactly what was sent."""
    message = Message(message_id, room, "u", "name", body, timestamp, client_id)
    wire = encode(message_frame(message)).encode("utf-8")
    assert json.loads(wire) == message_frame(message)


@FUZZ
@given(st.text())
def test_an_error_frame_always_says_type_code_and_message(text_in):
    """Whatever message an error carries, its frame is a well-formed error."""
    frame = json.loads(encode(error_frame(ChatError(text_in or None), "sendMessage")))
    assert frame["type"] == "error" and frame["code"] and "message" in frame


ROUTES = ["$connect", "$disconnect", "$default", *ACTIONS]


@FUZZ
@given(st.one_of(st.text(), json_values.map(json.dumps), bodies.map(json.dumps)))
def test_route_selection_names_a_route_for_any_frame(body):
    """Any frame selects a route the API has; a ``$`` route is never selected by a frame."""
    selected = route_key(body, ROUTES)
    assert selected in ROUTES and selected not in ("$connect", "$disconnect")
    try:
        frame = json.loads(body)
    except ValueError:
        frame = None
    if isinstance(frame, dict) and frame.get("action") in ACTIONS:
        assert selected == frame["action"]


def _frame(length: int, masked: bool = True) -> bytes:
    mask = 0x80 if masked else 0
    if length < 126:
        head = struct.pack("!BB", 0x81, mask | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x81, mask | 126, length)
    else:
        head = struct.pack("!BBQ", 0x81, mask | 127, length)
    return head + (b"abcd" if masked else b"") + b"x" * length


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 70_000), min_size=1, max_size=5),
    st.lists(st.integers(1, 40_000), min_size=1, max_size=8),
)
def test_the_frame_guard_finds_the_first_oversize_frame_however_the_bytes_arrive(sizes, cuts):
    """Split anywhere, a stream of frames is judged as a whole: the offset of the first frame
    over 32 KB, or None."""
    limit = 32 * 1024
    stream = b"".join(_frame(size) for size in sizes)
    expected, offset = None, 0
    for size in sizes:
        if size > limit:
            expected = offset
            break
        offset += len(_frame(size))
    guard, position, found = FrameSizeLimit(limit), 0, None
    pieces, at = [], 0
    for cut in cuts:
        pieces.append(stream[at : at + cut])
        at += cut
    pieces.append(stream[at:])
    for piece in pieces:
        reported = guard.feed(piece)
        if reported is not None:  # 0 when the frame's header began in an earlier piece
            assert expected is not None and expected < position + len(piece)
            assert reported == max(0, expected - position)
            found = expected
            break
        position += len(piece)
    assert found == expected
