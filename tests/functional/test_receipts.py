"""Receipts, typing and presence (lambdas/domain/receipts.py, typing_gate.py, signals.py) on
real tables: markers that only move forward with one write, frames bounded by chat size,
typing rate-limited and never stored, presence on the first and last connection."""

from __future__ import annotations

import pytest

from lambdas.contract.errors import ChatNotFound, RateLimited, ValidationFailed
from lambdas.contract.receipts import DELIVERED, READ, Presence, ReceiptRequest, TypingRequest
from lambdas.domain.chat_streams import chat_audience
from lambdas.domain.fanout import process_stream_batch
from lambdas.domain.identity import Identity
from lambdas.domain.receipts import ReceiptStore, marker_from_item
from lambdas.domain.signals import announce_presence, chat_partners, send_receipt, send_typing
from lambdas.domain.typing_gate import TypingGate
from tests.functional.helpers import scan_all, stream_records
from tests.functional.test_chat_streams import (
    ADA,
    BOB,
    CY,
    Recorder,
    connect,
    person,
    send,
    stores,  # noqa: F401 (a fixture)
)

DAN = Identity("user-dan", "dan", "dan@example.com")


@pytest.fixture
def receipts(stores, dynamodb):  # noqa: F811
    return ReceiptStore(dynamodb, stores["chats"]._table)


def direct(stores):  # noqa: F811
    chat, _ = stores["chats"].create_direct(person(ADA), person(BOB))
    return chat.summary.chat_id


def test_a_marker_moves_forward_with_one_write_and_never_back(stores, receipts):  # noqa: F811
    """One read receipt covers every message up to its seq; an older one, or a repeat, leaves
    the marker where it is."""
    chat_id = direct(stores)
    for text in ("one", "two", "three", "four"):
        send(stores, chat_id, ADA, text)
    item, moved = receipts.advance(chat_id, BOB.user_id, READ, 4)
    assert moved and marker_from_item(item).read_seq == 4
    for seq in (2, 4, 0):
        item, moved = receipts.advance(chat_id, BOB.user_id, READ, seq)
        assert not moved and marker_from_item(item).read_seq == 4
    item, moved = receipts.advance(chat_id, BOB.user_id, DELIVERED, 3)
    marker = marker_from_item(item)
    assert moved and (marker.delivered_seq, marker.read_seq) == (3, 4)
    assert marker.to_wire()["deliveredSeq"] == 4  # what was read was delivered


def test_a_receipt_beyond_the_chat_or_from_an_outsider_is_refused(stores, receipts):  # noqa: F811
    """A seq past the latest message is a validation error for a participant, and an outsider
    gets CHAT_NOT_FOUND whatever the seq — nothing moves."""
    chat_id = direct(stores)
    send(stores, chat_id, ADA, "one")
    with pytest.raises(ValidationFailed) as refused:
        receipts.advance(chat_id, BOB.user_id, READ, 2)
    assert refused.value.field == "seq"
    for seq in (1, 2):
        with pytest.raises(ChatNotFound):
            receipts.advance(chat_id, CY.user_id, READ, seq)
    with pytest.raises(ChatNotFound):
        receipts.advance("no-such-chat", BOB.user_id, READ, 1)
    assert [m.read_seq for m in receipts.markers(chat_id, ADA.user_id)] == [0, 0]
    with pytest.raises(ChatNotFound):
        receipts.markers(chat_id, CY.user_id)


def test_receipt_frames_go_to_the_others_of_a_small_chat_only(stores, receipts):  # noqa: F811
    """A moved marker is told to the other participants' connections in a chat within the
    bound, not to the reader's own; above the bound, nobody is told and the counts still say."""
    chats = stores["chats"]
    for connection_id, who in (("a1=", ADA), ("b1=", BOB), ("b2=", BOB), ("c1=", CY)):
        connect(stores, connection_id, who)
    small = direct(stores)
    big = chats.create_group(person(ADA), "big", [person(BOB), person(CY)]).summary.chat_id
    for chat_id in (small, big):
        send(stores, chat_id, ADA, "hello")
    poster = Recorder()
    args = (receipts, chats, stores["connections"], poster, BOB.user_id)
    send_receipt(*args, ReceiptRequest(small, READ, 1), fanout_max=2)
    send_receipt(*args, ReceiptRequest(big, READ, 1), fanout_max=2)
    assert poster.frames == {
        "a1=": [
            {"type": "receipt", "chatId": small, "userId": BOB.user_id}
            | {"deliveredSeq": 1, "readSeq": 1}
        ]
    }
    send_receipt(*args, ReceiptRequest(small, READ, 1), fanout_max=2)  # did not move: no frame
    assert len(poster.frames["a1="]) == 1
    read = [m.user_id for m in receipts.markers(big, ADA.user_id) if m.read_seq >= 1]
    assert read == [BOB.user_id]  # (the sender's own read comes with the chat lists' update)


def test_the_broadcaster_moves_delivered_markers_once_per_batch(stores, receipts, streams):  # noqa: F811
    """A batch of three messages moves each reached participant's delivered marker once, to the
    newest; the sender is told with one receipt frame; an offline participant's stays."""
    chats, connections = stores["chats"], stores["connections"]
    chat_id = chats.create_group(person(ADA), "lab", [person(BOB), person(CY)]).summary.chat_id
    for connection_id, who in (("a1=", ADA), ("b1=", BOB)):
        connect(stores, connection_id, who)
    for text in ("one", "two", "three"):
        send(stores, chat_id, ADA, text)
    records = stream_records(streams, stores["messages_stream"])
    poster = Recorder()
    audience = chat_audience(chats, connections)
    report = process_stream_batch(
        records, connections.members, poster, connections.remove, chats=audience
    )
    assert report.messages == 3
    writes = audience.markers.flush(receipts, poster, connections.forget, fanout_max=20)
    assert writes == 1  # Bob's marker, once for the three messages
    markers = {m.user_id: m for m in receipts.markers(chat_id, ADA.user_id)}
    assert markers[BOB.user_id].delivered_seq == 3 and markers[CY.user_id].delivered_seq == 0
    receipts_to_ada = [f for f in poster.frames["a1="] if f["type"] == "receipt"]
    assert receipts_to_ada == [
        {"type": "receipt", "chatId": chat_id, "userId": BOB.user_id}
        | {"deliveredSeq": 3, "readSeq": 0}
    ]
    assert all(f["type"] == "message" for f in poster.frames["b1="])


def test_typing_reaches_the_other_participants_rate_limited_and_unstored(
    stores,  # noqa: F811
    dynamodb,
):
    """A typing start goes to the other participants' connections (not the typist's, not an
    outsider's), a second within the interval is refused, and nothing is stored but the gate."""
    chats, connections = stores["chats"], stores["connections"]
    chat_id = direct(stores)
    for connection_id, who in (("a1=", ADA), ("a2=", ADA), ("b1=", BOB), ("c1=", CY)):
        connect(stores, connection_id, who)
    gate = TypingGate(dynamodb, connections._table, interval_ms=60_000)
    poster = Recorder()
    send_typing(chats, connections, gate, poster, ADA, TypingRequest(chat_id, "start"))
    assert set(poster.frames) == {"b1="}
    frame = poster.frames["b1="][0]
    assert frame["type"] == "typing" and frame["state"] == "start" and frame["userId"] == "user-ada"
    with pytest.raises(RateLimited):
        send_typing(chats, connections, gate, poster, ADA, TypingRequest(chat_id, "start"))
    send_typing(chats, connections, gate, poster, ADA, TypingRequest(chat_id, "stop"))
    assert [f["state"] for f in poster.frames["b1="]] == ["start", "stop"]
    with pytest.raises(ChatNotFound):
        send_typing(chats, connections, gate, poster, CY, TypingRequest(chat_id, "start"))
    assert stores["messages"].history(None, 10, None, chat_id=chat_id)[0] == []
    gates = [i for i in scan_all(dynamodb, connections._table) if i["pk"]["S"].startswith("typ")]
    assert len(gates) == 2 and all("ttl" in i for i in gates)


def test_the_typing_gate_lets_one_through_per_interval(stores, dynamodb):  # noqa: F811
    """The gate admits one signal per interval per (chat, user, state), and again after it."""
    gate = TypingGate(dynamodb, stores["connections"]._table, interval_ms=2000)
    assert gate.admit("c", "u", "start", now=100.0)
    assert not gate.admit("c", "u", "start", now=101.9)
    assert gate.admit("c", "u", "stop", now=101.9) and gate.admit("c", "v", "start", now=101.9)
    assert gate.admit("c", "u", "start", now=102.0)


def test_presence_changes_on_the_first_and_the_last_connection(stores):  # noqa: F811
    """Only the first open connection makes a user online and only the last one closing makes
    them offline, with when; the chat list's view agrees."""
    connections = stores["connections"]
    connections.add("b1=", BOB)
    connections.add("b2=", BOB)
    assert connections.register(BOB.user_id, "b1=") is True
    assert connections.register(BOB.user_id, "b2=") is False
    assert connections.presence_of([BOB.user_id])[BOB.user_id].online
    assert connections.remove("b1=") == []
    (offline,) = connections.remove("b2=")
    assert offline.user_id == BOB.user_id and not offline.online and offline.last_seen > 0
    assert connections.remove("b2=") == []  # twice: nothing more
    seen = connections.presence_of([BOB.user_id, CY.user_id])
    assert seen[BOB.user_id] == Presence(BOB.user_id, False, seen[BOB.user_id].last_seen)
    assert seen[CY.user_id] == Presence(CY.user_id, False, None)


def test_presence_is_told_to_chat_partners_only(stores):  # noqa: F811
    """Bob's presence reaches the peers of his direct chats and his groups within the bound, on
    every connection, and nobody else."""
    chats, connections = stores["chats"], stores["connections"]
    chats.create_direct(person(BOB), person(ADA))
    chats.create_group(person(BOB), "small", [person(CY)])
    chats.create_group(person(BOB), "big", [person(CY), person(DAN), person(ADA)])
    assert chat_partners(chats.list_chats, chats.participants, BOB.user_id, 3, 50) == {
        ADA.user_id,
        CY.user_id,
    }
    for connection_id, who in (("a1=", ADA), ("a2=", ADA), ("c1=", CY), ("d1=", DAN)):
        connect(stores, connection_id, who)
    poster = Recorder()
    announce_presence(chats, connections, poster, Presence(BOB.user_id, True, None), 3, 50, "bob")
    assert set(poster.frames) == {"a1=", "a2=", "c1="}
    assert poster.frames["c1="] == [
        {"type": "presence", "userId": BOB.user_id, "username": "bob", "online": True}
        | {"lastSeen": None}
    ]
