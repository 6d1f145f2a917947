"""Receipts in rooms (lambdas/domain/room_receipts.py) on real tables: one marker item per
(room, member) that only moves forward with one write, checked against the member's rooms and
the room's history, and counts from one Query of the room's markers."""

from __future__ import annotations

import pytest

from lambdas.contract.errors import NotInRoom, ValidationFailed
from lambdas.contract.room_receipts import Position, RoomReceiptRequest, room_receipt_counts
from lambdas.domain import keys
from lambdas.domain.messages import MessageStore
from lambdas.domain.room_receipts import RoomReceiptStore, room_receipt, room_receipts_summary
from lambdas.domain.rooms import UserRooms
from tests.functional.helpers import scan_all

ADA, BOB, CY, EVE = "user-ada", "user-bob", "user-cy", "user-eve"
ROOM = "lab"
T0 = 1_700_000_000_000


@pytest.fixture
def stores(dynamodb, make_table):
    chats = make_table("chats").name
    return {
        "chats_table": chats,
        "receipts": RoomReceiptStore(dynamodb, chats),
        "rooms": UserRooms(dynamodb, chats, max_rooms=5),
        "messages": MessageStore(dynamodb, make_table("messages").name, dedupe_ttl_seconds=86400),
    }


def post(stores, n: int, room: str = ROOM) -> list[Position]:
    """``n`` messages of ada in ``room``, a millisecond apart: their positions, oldest first."""
    sent = [
        stores["messages"].put(room, ADA, "ada", f"m{i}", None, now_ms=T0 + i)[0] for i in range(n)
    ]
    return [Position(m.timestamp, m.message_id) for m in sent]


def receipt(stores, user_id: str, kind: str, position: Position, room: str = ROOM):
    request = RoomReceiptRequest(room, kind, position)
    return room_receipt(stores["receipts"], stores["rooms"], stores["messages"], user_id, request)


def summary(stores, user_id: str, position: Position | None = None, room: str = ROOM):
    return room_receipts_summary(
        stores["receipts"], stores["rooms"], stores["messages"], room, user_id, position
    )


def marker_items(dynamodb, stores) -> list[dict]:
    items = scan_all(dynamodb, stores["chats_table"])
    return [i for i in items if i["pk"]["S"] == keys.room_markers_partition(ROOM)]


def test_a_room_marker_moves_forward_with_one_write_and_never_back(stores):
    """One read receipt covers every earlier message; an older position or a repeat leaves the
    marker where it is (moved false), for read and delivered alike."""
    for who in (ADA, BOB):
        stores["rooms"].join(who, ROOM)
    first, second, third = post(stores, 3)
    marker, moved = receipt(stores, BOB, "read", second)
    assert moved and marker.read == second and marker.shown_delivered == second
    for position in (first, second):
        marker, moved = receipt(stores, BOB, "read", position)
        assert not moved and marker.read == second
    for position in (first, second):  # read implies delivered: nothing to move
        marker, moved = receipt(stores, BOB, "delivered", position)
        assert not moved and marker.shown_delivered == second
    marker, moved = receipt(stores, BOB, "delivered", third)
    assert moved and (marker.shown_delivered, marker.read) == (third, second)
    marker, moved = receipt(stores, BOB, "delivered", second)
    assert not moved and marker.shown_delivered == third


def test_a_receipt_is_one_marker_item_per_member(stores, dynamodb):
    """Every receipt of a member, however many messages, is kept in one item of the room's
    marker partition, which holds the later positions as history sort keys."""
    stores["rooms"].join(BOB, ROOM)
    positions = post(stores, 4)
    for position in positions:
        receipt(stores, BOB, "delivered", position)
    receipt(stores, BOB, "read", positions[1])
    (item,) = marker_items(dynamodb, stores)
    assert item["sk"]["S"] == f"user#{BOB}"
    assert item["deliveredPos"]["S"] == keys.message_sort_key(T0 + 3, positions[3].message_id)
    assert item["readPos"]["S"] == keys.message_sort_key(T0 + 1, positions[1].message_id)


def test_only_a_member_may_send_a_room_receipt(stores, dynamodb):
    """Someone outside the room gets NotInRoom, for a real message or not, and nothing is
    written; a user without a rooms item is in general."""
    stores["rooms"].join(BOB, ROOM)
    (position,) = post(stores, 1)
    for target in (position, Position(T0, "no-such-message")):
        with pytest.raises(NotInRoom):
            receipt(stores, EVE, "read", target)
    with pytest.raises(NotInRoom):
        summary(stores, EVE, position)
    assert marker_items(dynamodb, stores) == []
    (general,) = post(stores, 1, room="general")
    marker, moved = receipt(stores, EVE, "read", general, room="general")
    assert moved and marker.read == general


def test_a_receipt_for_a_message_not_in_the_room_is_refused(stores, dynamodb):
    """A message of another room, a wrong timestamp or an unknown id is a validation error
    naming messageId, and moves nothing."""
    for room in (ROOM, "other"):
        stores["rooms"].join(BOB, room)
    (here,) = post(stores, 1)
    (elsewhere,) = post(stores, 1, room="other")
    for position in (
        elsewhere,
        Position(here.timestamp + 1, here.message_id),
        Position(here.timestamp, "00000000-0000-4000-8000-000000000000"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            receipt(stores, BOB, "read", position)
        assert refused.value.field == "messageId"
        with pytest.raises(ValidationFailed):
            summary(stores, BOB, position)
    assert marker_items(dynamodb, stores) == []


def test_the_counts_say_read_by_k_of_n_without_the_caller(stores):
    """Counts come from the markers at or past the message (others only), and N from the
    room's directory count less the caller."""
    for who in (ADA, BOB, CY):
        stores["rooms"].join(who, ROOM)
    first, second = post(stores, 2)
    receipt(stores, ADA, "read", second)  # the caller's own: never counted
    receipt(stores, BOB, "read", second)
    receipt(stores, CY, "delivered", second)
    receipt(stores, CY, "read", first)
    mine, members, reached = summary(stores, ADA, second)
    assert members == 3 and mine.read == second
    assert reached is not None and {m.user_id for m in reached} == {ADA, BOB, CY}
    counts = room_receipt_counts(reached, second, ADA, members)
    assert counts == {**second.to_wire(), "delivered": 2, "read": 1, "of": 2}
    _, _, reached = summary(stores, ADA, first)
    assert room_receipt_counts(reached, first, ADA, members)["read"] == 2
    mine, members, reached = summary(stores, EVE, None, room="general")
    assert (mine.delivered, mine.read, reached) == (None, None, None)


def test_the_counts_read_every_page_of_a_large_room(stores, dynamodb):
    """The count Query follows LastEvaluatedKey: markers on later pages are counted too."""
    stores["rooms"].join(ADA, ROOM)
    (position,) = post(stores, 1)
    padding = "x" * 60_000  # a few items fill a 1 MB page
    for n in range(40):
        user = f"user-{n:02d}"
        stores["rooms"].join(user, ROOM)
        receipt(stores, user, "read" if n % 2 else "delivered", position)
        dynamodb.update_item(
            TableName=stores["chats_table"],
            Key=keys.room_marker_key(ROOM, user),
            UpdateExpression="SET padding = :p",
            ExpressionAttributeValues={":p": {"S": padding}},
        )
    _, members, reached = summary(stores, ADA, position)
    assert members == 41 and reached is not None and len(reached) == 40
    counts = room_receipt_counts(reached, position, ADA, members)
    assert (counts["delivered"], counts["read"], counts["of"]) == (40, 20, 40)


def test_a_member_who_leaves_is_no_longer_counted(stores, dynamodb):
    """Leaving the room deletes the member's markers: the counts are of members only, and one
    who comes back starts with none."""
    for who in (ADA, BOB, CY):
        stores["rooms"].join(who, ROOM)
    (position,) = post(stores, 1)
    receipt(stores, BOB, "read", position)
    receipt(stores, CY, "read", position)
    assert stores["rooms"].leave(BOB, ROOM) is True
    _, members, reached = summary(stores, ADA, position)
    counts = room_receipt_counts(reached, position, ADA, members)
    assert (counts["read"], counts["of"]) == (1, 1)
    stores["rooms"].join(BOB, ROOM)
    mine, _, _ = summary(stores, BOB)
    assert (mine.delivered, mine.read) == (None, None)
    assert [i["sk"]["S"] for i in marker_items(dynamodb, stores)] == [f"user#{CY}"]


def test_a_member_who_comes_back_starts_afresh_even_after_a_racing_receipt(stores, dynamodb):
    """A receipt checked while Bob was a member but written after he left (the check and the
    write are two requests) leaves a marker behind; joining again deletes it, so Bob starts with
    none and is not counted for what he read before."""
    for who in (ADA, BOB):
        stores["rooms"].join(who, ROOM)
    (position,) = post(stores, 1)
    assert stores["rooms"].leave(BOB, ROOM) is True
    stores["receipts"].move(ROOM, BOB, "read", position)  # the racing receipt's write
    assert stores["rooms"].join(BOB, ROOM) is True
    mine, _, reached = summary(stores, BOB, position)
    assert (mine.delivered, mine.read) == (None, None)
    assert reached == [] and marker_items(dynamodb, stores) == []
