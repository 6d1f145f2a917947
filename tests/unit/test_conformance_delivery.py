"""The completeness checks' delivery book: what each member was owed and what it got."""

from __future__ import annotations

from conformance.delivery import DeliveryBook


def frame(message_id: str, room: str = "r", text: str = "t") -> dict[str, str]:
    return {"type": "message", "messageId": message_id, "roomId": room, "message": text}


def book_of(count: int, sender: str = "ann", room: str = "r") -> tuple[DeliveryBook, list]:
    book = DeliveryBook()
    sent = [book.send(f"id{i}", room, sender, "t") for i in range(count)]
    return book, sent


def test_a_member_that_got_everything_once_has_no_problem():
    """Every owed message received once, in any order, is complete and clean."""
    book, sent = book_of(3)
    book.owe("m", sent)
    for message_id in ("id2", "id0", "id1"):
        book.receive("m", frame(message_id))
    assert book.complete("m")
    assert book.problems() == []


def test_missing_messages_are_named_by_sender_and_place_in_the_run():
    """The report says which of a sender's messages a member lacks."""
    book, sent = book_of(4)
    book.owe("m", sent)
    book.receive("m", frame("id0"))
    book.receive("m", frame("id2"))
    assert not book.complete("m")
    assert book.problems() == ["m: missing 2 of 4: ann#2, ann#4"]


def test_a_doubled_delivery_is_reported_with_its_count():
    """A message received twice is a fault even when nothing is missing."""
    book, sent = book_of(2)
    book.owe("m", sent)
    for message_id in ("id0", "id1", "id1"):
        book.receive("m", frame(message_id))
    assert book.complete("m")
    assert book.problems() == ["m: doubled: ann#2 x2"]


def test_a_message_received_while_out_of_the_room_is_reported():
    """A forbidden message received is a leak; once ignored, later copies are not counted."""
    book, sent = book_of(2)
    book.forbid("m", sent[:1])
    book.receive("m", frame("id0"))
    book.ignore("m", sent[:1])
    book.receive("m", frame("id0"))
    assert book.problems() == ["m: received while out of the room: ann#1"]


def test_an_altered_or_unknown_frame_is_reported():
    """A frame whose text differs from what was sent, or that names no sent message, is a fault."""
    book, sent = book_of(1)
    book.owe("m", sent)
    book.receive("m", frame("id0", text="changed"))
    book.receive("m", frame("nobody-sent-this"))
    (line,) = book.problems()
    assert "altered: ann#1 came as roomId='r' message='changed'" in line
    assert "frames of no message sent" in line


def test_runs_are_numbered_per_sender_and_room_and_rooms_named_when_several():
    """Places count per (sender, room); with two rooms the report names the room."""
    book = DeliveryBook()
    a = book.send("a1", "A", "ann", "t")
    b = book.send("b1", "B", "ann", "t")
    a2 = book.send("a2", "A", "ann", "t")
    assert (a.seq, b.seq, a2.seq) == (1, 1, 2)
    book.owe("m", [a, b, a2])
    book.receive("m", frame("a1", "A"))
    assert book.problems() == ["m: missing 2 of 3: ann#2 in A, ann#1 in B"]


def test_latencies_count_first_receipts_only():
    """Send-to-receive times come from the first copy of each message."""
    book = DeliveryBook()
    sent = book.send("id0", "r", "ann", "t", at=10.0)
    book.owe("m", [sent])
    book.receive("m", frame("id0"), at=10.05)
    book.receive("m", frame("id0"), at=10.5)
    assert [round(v) for v in book.latencies_ms()] == [50]
