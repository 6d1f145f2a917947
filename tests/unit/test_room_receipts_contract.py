"""Room receipts' pure contract (lambdas/contract/room_receipts.py, receipts.parse_receipt):
parsing names the field at fault, positions order as the history does, counts say K of N."""

from __future__ import annotations

import pytest

from lambdas.contract.errors import ValidationFailed
from lambdas.contract.receipts import ReceiptRequest, parse_receipt
from lambdas.contract.room_receipts import (
    Position,
    RoomMarker,
    RoomReceiptRequest,
    ack_room_receipt,
    parse_room_receipts_query,
    room_receipt_counts,
    room_receipts_body,
)

MESSAGE = "4b0f6c1e-2f3a-4d5e-8f90-0123456789ab"
ROOM_FRAME = {"roomId": "lab", "kind": "read", "messageId": MESSAGE, "timestamp": 1_700_000_000_000}


def refused_field(parse, value) -> str | None:
    with pytest.raises(ValidationFailed) as refused:
        parse(value)
    return refused.value.field


def test_a_receipt_with_a_room_id_is_a_room_receipt():
    """``roomId`` selects a room receipt with the message's position; ``chatId`` a chat's."""
    request = parse_receipt({"action": "receipt", **ROOM_FRAME})
    assert request == RoomReceiptRequest("lab", "read", Position(1_700_000_000_000, MESSAGE))
    chat = parse_receipt({"chatId": "c1", "kind": "delivered", "seq": 3})
    assert chat == ReceiptRequest("c1", "delivered", 3)


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({**ROOM_FRAME, "chatId": "c1"}, "chatId"),  # both
        ({"kind": "read", "seq": 1}, "chatId"),  # neither
        ({**ROOM_FRAME, "roomId": "no spaces"}, "roomId"),
        ({**ROOM_FRAME, "roomId": 7}, "roomId"),
        ({**ROOM_FRAME, "kind": "seen"}, "kind"),
        ({k: v for k, v in ROOM_FRAME.items() if k != "kind"}, "kind"),
        ({k: v for k, v in ROOM_FRAME.items() if k != "messageId"}, "messageId"),
        ({**ROOM_FRAME, "messageId": "a#b"}, "messageId"),
        ({**ROOM_FRAME, "messageId": "x" * 65}, "messageId"),
        ({**ROOM_FRAME, "messageId": 5}, "messageId"),
        ({k: v for k, v in ROOM_FRAME.items() if k != "timestamp"}, "timestamp"),
        ({**ROOM_FRAME, "timestamp": "1700000000000"}, "timestamp"),
        ({**ROOM_FRAME, "timestamp": -1}, "timestamp"),
        ({**ROOM_FRAME, "timestamp": 10**13}, "timestamp"),
        ({**ROOM_FRAME, "timestamp": 1.5}, "timestamp"),
        ({**ROOM_FRAME, "timestamp": True}, "timestamp"),
        ({**ROOM_FRAME, "seq": 3, "timestamp": None}, "timestamp"),
    ],
)
def test_a_bad_room_receipt_names_the_field(frame, field):
    """Each malformed receipt is a VALIDATION_ERROR naming the field at fault."""
    assert refused_field(parse_receipt, frame) == field


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"messageId": MESSAGE}, "timestamp"),
        ({"timestamp": "1"}, "messageId"),
        ({"messageId": MESSAGE, "timestamp": "x"}, "timestamp"),
        ({"messageId": MESSAGE, "timestamp": "-1"}, "timestamp"),
        ({"messageId": MESSAGE, "timestamp": "１２"}, "timestamp"),  # fullwidth digits
        ({"messageId": MESSAGE, "timestamp": "1" * 14}, "timestamp"),
        ({"messageId": "", "timestamp": "1"}, "messageId"),
    ],
)
def test_a_bad_counts_query_names_the_field(query, field):
    """``messageId`` and ``timestamp`` come together and well-formed, or not at all."""
    assert refused_field(parse_room_receipts_query, query) == field


def test_a_counts_query_is_a_position_or_nothing():
    """No query: no counts; both: the position."""
    assert parse_room_receipts_query({}) is None
    found = parse_room_receipts_query({"messageId": MESSAGE, "timestamp": "0000012"})
    assert found == Position(12, MESSAGE)


def test_positions_order_by_time_then_id():
    """A later timestamp is later whatever the ids; the same millisecond orders by id."""
    assert Position(2, "a") > Position(1, "z")
    assert Position(1, "b") > Position(1, "a")


def test_a_read_marker_counts_as_delivered():
    """The delivered marker shown is never below the read one."""
    marker = RoomMarker("u", delivered=Position(1, "a"), read=Position(3, "c"))
    assert marker.shown_delivered == Position(3, "c")
    assert marker.reached("delivered", Position(2, "b"))
    assert marker.to_wire()["delivered"] == {"messageId": "c", "timestamp": 3}
    empty = RoomMarker("u", None, None)
    assert empty.to_wire() == {"delivered": None, "read": None}
    assert not empty.reached("delivered", Position(0, "a"))


def test_counts_leave_out_the_caller_and_never_exceed_n():
    """K counts the others at or past the message; N is the directory count less the caller,
    and a directory count one short never shows more readers than members."""
    at = Position(5, "m")
    markers = [
        RoomMarker("me", at, at),
        RoomMarker("bob", None, Position(6, "n")),
        RoomMarker("cy", at, Position(4, "l")),
    ]
    assert room_receipt_counts(markers, at, "me", 4) == {
        "messageId": "m",
        "timestamp": 5,
        "delivered": 2,
        "read": 1,
        "of": 3,
    }
    short = room_receipt_counts(markers, at, "me", 2)
    assert (short["delivered"], short["read"], short["of"]) == (1, 1, 1)


def test_the_ack_and_the_body_carry_the_agreed_fields():
    """The ack names the request and the caller's markers; the body is never live."""
    request = parse_receipt(ROOM_FRAME)
    assert isinstance(request, RoomReceiptRequest)
    marker = RoomMarker("u", None, request.position)
    ack = ack_room_receipt(request, marker, True)
    position = {"messageId": MESSAGE, "timestamp": 1_700_000_000_000}
    assert ack == {
        "type": "ack",
        "action": "receipt",
        "roomId": "lab",
        "kind": "read",
        **position,
        "delivered": position,
        "read": position,
        "moved": True,
    }
    body = room_receipts_body("lab", 3, marker, None)
    assert body == {
        "roomId": "lab",
        "members": 3,
        "live": False,
        "mine": {"delivered": position, "read": position},
        "counts": None,
    }
