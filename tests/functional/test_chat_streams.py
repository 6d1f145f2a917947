"""What follows from the streams for chats (lambdas/domain/chat_streams.py, the broadcaster's
chat path): real table stream records, the embedded AWS, a recording poster."""

from __future__ import annotations

import json

import pytest

from lambdas.contract.chats import Person
from lambdas.domain.chat_streams import chat_audience, process_chat_events, process_inbox_batch
from lambdas.domain.chats import ChatStore
from lambdas.domain.connections import ConnectionStore
from lambdas.domain.fanout import ConnectionGone, OneAtATime, process_stream_batch
from lambdas.domain.messages import MessageStore
from lambdas.domain.tokens import Identity
from tests.functional.helpers import stream_records

T0 = 1_700_000_000.0
ADA, BOB, CY = (Identity(f"user-{n}", n, f"{n}@example.com") for n in ("ada", "bob", "cy"))


def person(who: Identity) -> Person:
    return Person(who.user_id, who.username)


class Recorder(OneAtATime):
    """Records frames per connection; ids in ``gone`` answer 410."""

    def __init__(self, gone=()):
        self.frames: dict[str, list[dict]] = {}
        self.gone = set(gone)

    def post(self, connection_id: str, data: bytes) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        self.frames.setdefault(connection_id, []).append(json.loads(data))


@pytest.fixture
def stores(dynamodb, make_table):
    chats_table, messages_table = make_table("chats"), make_table("messages")
    return {
        "chats": ChatStore(dynamodb, chats_table.name, max_participants=10),
        "messages": MessageStore(dynamodb, messages_table.name, dedupe_ttl_seconds=86400),
        "connections": ConnectionStore(dynamodb, make_table("connections").name, 86400, 50),
        "chats_stream": chats_table.stream_arn,
        "messages_stream": messages_table.stream_arn,
    }


def connect(stores, connection_id: str, who: Identity, now: float = T0 - 60) -> None:
    stores["connections"].add(connection_id, who, now)
    stores["connections"].register(who.user_id, connection_id)


def send(stores, chat_id: str, who: Identity, text: str, client_message_id=None):
    chats = stores["chats"]
    return stores["messages"].put(
        None,
        who.user_id,
        who.username,
        text,
        client_message_id,
        chat_id=chat_id,
        next_seq=lambda: chats.next_seq(chat_id),
    )


def broadcast(records, poster, chats, connections):
    """The broadcaster's processing of ``records``, chats' messages included."""
    return process_stream_batch(
        records,
        connections.members,
        poster,
        connections.remove,
        chats=chat_audience(chats, connections),
    )


def test_a_chat_message_reaches_every_connection_of_every_participant(stores, streams):
    """The broadcaster delivers a chat's message to all open connections of its participants,
    none of anyone else's, and forgets a gone one (old enough to really be gone)."""
    chats = stores["chats"]
    chat = chats.create_group(person(ADA), "lab", [person(BOB)])
    for connection_id, who in (("a1=", ADA), ("a2=", ADA), ("b1=", BOB), ("gone=", BOB)):
        connect(stores, connection_id, who)
    connect(stores, "c1=", CY)
    message, _ = send(stores, chat.summary.chat_id, ADA, "hello")
    records = stream_records(streams, stores["messages_stream"])
    poster = Recorder(gone={"gone="})
    connections = stores["connections"]
    report = broadcast(records, poster, chats, connections)
    assert report.batch_item_failures == [] and report.messages == 1
    assert set(poster.frames) == {"a1=", "a2=", "b1="}
    for frames in poster.frames.values():
        assert frames == [{"type": "message", **message.to_wire()}]
    assert connections.connections_of([BOB.user_id]) == {"b1=": BOB.user_id}


def test_a_chats_audience_is_read_once_per_batch_and_a_gone_connection_posted_to_once(
    stores, streams, monkeypatch
):
    """Three messages of one chat in a batch: its participants and their connections are read
    for the first (as a room's members are), every connection gets all three in order, and a
    gone connection is posted to once and forgotten."""
    chats, connections = stores["chats"], stores["connections"]
    chat = chats.create_group(person(ADA), "lab", [person(BOB)])
    for connection_id, who in (("a1=", ADA), ("b1=", BOB), ("gone=", BOB)):
        connect(stores, connection_id, who)
    sent = [send(stores, chat.summary.chat_id, ADA, text)[0] for text in ("1", "2", "3")]
    records = stream_records(streams, stores["messages_stream"])
    reads = []
    participants = chats.participants
    monkeypatch.setattr(chats, "participants", lambda c: reads.append(c) or participants(c))
    poster = Recorder(gone={"gone="})
    posts = []
    deliver = poster.deliver
    monkeypatch.setattr(
        poster, "deliver", lambda ids, *a: posts.append(list(ids)) or deliver(ids, *a)
    )
    report = broadcast(records, poster, chats, connections)
    assert report.messages == 3 and reads == [chat.summary.chat_id]
    assert [sorted(p) for p in posts] == [["a1=", "b1=", "gone="], ["a1=", "b1="], ["a1=", "b1="]]
    for connection_id in ("a1=", "b1="):
        assert [f["messageId"] for f in poster.frames[connection_id]] == [
            m.message_id for m in sent
        ]
    assert connections.connections_of([BOB.user_id]) == {"b1=": BOB.user_id}


def test_the_inbox_consumer_moves_each_participants_entry_once(stores, streams):
    """Each new chat message updates the participants' entries; replaying the batch changes
    nothing; room messages and dedupe claims are not for it."""
    chats = stores["chats"]
    chat = chats.create_group(person(ADA), "lab", [person(BOB), person(CY)])
    chat_id = chat.summary.chat_id
    send(stores, chat_id, BOB, "one", "c-1")
    send(stores, chat_id, BOB, "two")
    stores["messages"].put("general", ADA.user_id, "ada", "in a room", None)
    records = stream_records(streams, stores["messages_stream"])
    report = process_inbox_batch(records, chats)
    assert (report.messages, report.delivered, report.batch_item_failures) == (2, 6, [])
    assert process_inbox_batch(records, chats).delivered == 0
    assert chats.summary(chat_id, ADA.user_id).unread_count == 2
    assert chats.summary(chat_id, BOB.user_id).unread_count == 0
    assert chats.summary(chat_id, CY.user_id).last_message.preview == "two"


def test_a_failing_record_stops_the_inbox_batch_there(stores, streams, monkeypatch):
    """If a record cannot be recorded, it is the batch item failure and nothing after it runs."""
    chats = stores["chats"]
    chat = chats.create_group(person(ADA), "lab", [person(BOB)])
    for text in ("a", "b", "c"):
        send(stores, chat.summary.chat_id, BOB, text)
    records = [r for r in stream_records(streams, stores["messages_stream"])]
    calls = []

    def record(message):
        calls.append(message.seq)
        if message.seq == 2:
            raise RuntimeError("throttled")
        return 1

    monkeypatch.setattr(chats, "record", record)
    report = process_inbox_batch(records, chats)
    assert calls == [1, 2]
    assert report.batch_item_failures == [
        {"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}
    ]


def test_participants_added_and_gone_are_told_on_every_connection(stores, streams):
    """chatAdded (with the chat as the participant sees it) for each member inserted,
    chatRemoved for one removed; nothing for meta items or list updates."""
    chats, connections = stores["chats"], stores["connections"]
    for connection_id, who in (("a1=", ADA), ("b1=", BOB), ("b2=", BOB), ("c1=", CY)):
        connect(stores, connection_id, who)
    chat = chats.create_group(person(ADA), "lab", [person(BOB)])
    send(stores, chat.summary.chat_id, ADA, "hi")
    chats.record(send(stores, chat.summary.chat_id, ADA, "again")[0])
    chats.add(chat.summary.chat_id, ADA.user_id, [person(CY)])
    chats.leave(chat.summary.chat_id, BOB.user_id)
    poster = Recorder()
    records = stream_records(streams, stores["chats_stream"])
    report = process_chat_events(records, chats, connections, poster)
    assert report.batch_item_failures == []
    kinds = {cid: [f["type"] for f in frames] for cid, frames in poster.frames.items()}
    assert kinds == {
        "a1=": ["chatAdded"],
        "b1=": ["chatRemoved"],  # added, then gone before the events ran: only the truth now
        "b2=": ["chatRemoved"],
        "c1=": ["chatAdded"],
    }
    added = poster.frames["c1="][0]["chat"]
    assert added["chatId"] == chat.summary.chat_id and added["name"] == "lab"
    assert poster.frames["b1="][0] == {"type": "chatRemoved", "chatId": chat.summary.chat_id}
