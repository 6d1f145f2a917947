"""Chats (lambdas/domain/chats.py) against the embedded AWS: creation (and its races),
participation, membership changes, sequence numbers and the chat lists."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from lambdas.contract.chats import Person
from lambdas.contract.errors import ChatNotFound, NotAGroup, TooManyParticipants
from lambdas.contract.frames import Message
from lambdas.domain import keys
from lambdas.domain.chats import ChatStore, direct_chat_id
from tests.functional.helpers import scan_all

T0 = 1_700_000_000_000
ADA, BOB, CY, DEE = (Person(f"user-{n}", n) for n in ("ada", "bob", "cy", "dee"))


@pytest.fixture
def table(make_table) -> str:
    return make_table("chats").name


@pytest.fixture
def chats(dynamodb, table) -> ChatStore:
    return ChatStore(dynamodb, table, max_participants=4)


def members(dynamodb, table, chat_id: str) -> set[str]:
    partition = keys.chat_partition(chat_id)
    return {
        i["userId"]["S"]
        for i in scan_all(dynamodb, table)
        if i["pk"]["S"] == partition and i["sk"]["S"].startswith("member#")
    }


def message(chat_id: str, seq: int, sender: Person = BOB, text: str = "hi") -> Message:
    return Message(
        message_id=f"m-{seq}",
        room_id=None,
        user_id=sender.user_id,
        username=sender.username,
        message=text,
        timestamp=T0 + 1000 * seq,
        chat_id=chat_id,
        seq=seq,
    )


# -- direct chats ---------------------------------------------------------------------------------


def test_a_direct_chat_is_created_once_and_found_from_either_side(chats):
    """The first creation writes the chat; creating it again, from either side, finds it."""
    chat, created = chats.create_direct(ADA, BOB, now=T0)
    assert created and chat.summary.chat_id == direct_chat_id(ADA.user_id, BOB.user_id)
    assert chat.summary.peer == BOB and {p.user_id for p in chat.participants} == {
        ADA.user_id,
        BOB.user_id,
    }
    again, created_again = chats.create_direct(BOB, ADA, now=T0 + 5)
    assert not created_again and again.summary.chat_id == chat.summary.chat_id
    assert again.summary.peer == ADA


def test_racing_direct_creations_from_both_sides_make_one_chat(chats, dynamodb, table):
    """Eight threads, both sides, at once: one creates, all answer the same chat, two members."""
    threads = 8
    barrier = threading.Barrier(threads)

    def create(index: int):
        me, other = (ADA, BOB) if index % 2 else (BOB, ADA)
        barrier.wait(timeout=10)
        return chats.create_direct(me, other, now=T0 + index)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(create, range(threads)))
    assert sum(created for _, created in outcomes) == 1
    assert len({chat.summary.chat_id for chat, _ in outcomes}) == 1
    chat_id = outcomes[0][0].summary.chat_id
    assert members(dynamodb, table, chat_id) == {ADA.user_id, BOB.user_id}
    metas = [i for i in scan_all(dynamodb, table) if i["sk"]["S"] == "meta"]
    assert len(metas) == 1


def test_a_direct_creation_stopped_after_the_chat_is_completed_by_the_next(chats, dynamodb, table):
    """A chat written without its members (a crash between) gets them from the next creation."""
    chat_id = direct_chat_id(ADA.user_id, BOB.user_id)
    dynamodb.put_item(TableName=table, Item=chats._meta_item(chat_id, "direct", None, "x", T0))
    with pytest.raises(ChatNotFound):
        chats.detail(chat_id, ADA.user_id)
    chat, created = chats.create_direct(BOB, ADA, now=T0 + 1)
    assert not created and chat.summary.chat_id == chat_id
    assert members(dynamodb, table, chat_id) == {ADA.user_id, BOB.user_id}


# -- groups, participation ------------------------------------------------------------------------


def test_a_group_has_its_creator_and_others_sorted_by_name(chats):
    """A group's detail lists every participant by username; the list entry has no peer."""
    chat = chats.create_group(CY, "lab", [BOB, ADA], now=T0)
    assert [p.username for p in chat.participants] == ["ada", "bob", "cy"]
    assert chat.summary.type == "group" and chat.summary.name == "lab"
    assert chat.summary.peer is None and chat.summary.unread_count == 0


def test_a_group_over_the_limit_is_refused_before_anything_is_written(chats, dynamodb, table):
    """More than max_participants, the creator included: TooManyParticipants, no items."""
    with pytest.raises(TooManyParticipants):
        chats.create_group(ADA, "big", [BOB, CY, DEE, Person("user-eve", "eve")], now=T0)
    assert scan_all(dynamodb, table) == []


def test_a_non_participant_gets_chat_not_found_as_for_no_chat(chats):
    """detail, member and summary answer ChatNotFound to an outsider and for an unknown id."""
    chat = chats.create_group(ADA, "lab", [BOB], now=T0)
    for chat_id, user in ((chat.summary.chat_id, CY.user_id), ("no-such-chat", ADA.user_id)):
        for read in (chats.detail, chats.member, chats.summary):
            with pytest.raises(ChatNotFound) as raised:
                read(chat_id, user)
            assert raised.value.to_wire() == ChatNotFound().to_wire()


def test_added_participants_join_unread_free_and_present_ones_are_left_alone(chats, dynamodb):
    """Adding makes the new user a participant whose read marker is at the chat's seq."""
    chat = chats.create_group(ADA, "lab", [BOB], now=T0)
    chat_id = chat.summary.chat_id
    for _ in range(3):
        chats.next_seq(chat_id, now=T0 + 1)
    detail = chats.add(chat_id, BOB.user_id, [CY, ADA], now=T0 + 2)
    assert {p.user_id for p in detail.participants} == {ADA.user_id, BOB.user_id, CY.user_id}
    newcomer = chats.summary(chat_id, CY.user_id)
    assert (newcomer.last_seq, newcomer.read_seq, newcomer.unread_count) == (3, 3, 0)
    assert chats.summary(chat_id, ADA.user_id).last_activity == T0  # ada was not re-added


def test_adding_past_the_limit_is_refused_and_adds_nobody(chats, dynamodb, table):
    """An addition that would exceed max_participants raises and writes no member."""
    chat = chats.create_group(ADA, "lab", [BOB, CY], now=T0)
    with pytest.raises(TooManyParticipants):
        chats.add(chat.summary.chat_id, ADA.user_id, [DEE, Person("user-eve", "eve")])
    assert members(dynamodb, table, chat.summary.chat_id) == {
        ADA.user_id,
        BOB.user_id,
        CY.user_id,
    }


def test_racing_additions_never_leave_more_than_the_limit(chats, dynamodb, table):
    """Two additions at once, each fitting alone but not together: at most the limit remains,
    and a refused one takes back what it wrote."""
    chat = chats.create_group(ADA, "lab", [BOB], now=T0)  # limit 4: room for two more
    chat_id = chat.summary.chat_id
    newcomers = [[CY, DEE], [Person("user-eve", "eve"), Person("user-fay", "fay")]]
    barrier = threading.Barrier(2)

    def add(index: int):
        barrier.wait(timeout=10)
        try:
            return chats.add(chat_id, ADA.user_id, newcomers[index], now=T0 + 10 + index)
        except TooManyParticipants as refused:
            return refused

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(add, range(2)))
    assert any(isinstance(o, TooManyParticipants) for o in outcomes)
    assert len(members(dynamodb, table, chat_id)) <= 4


def test_only_a_participant_can_add_and_only_to_a_group(chats):
    """Adding by an outsider is ChatNotFound; adding to a direct chat is NotAGroup."""
    group = chats.create_group(ADA, "lab", [BOB], now=T0)
    with pytest.raises(ChatNotFound):
        chats.add(group.summary.chat_id, CY.user_id, [DEE])
    direct, _ = chats.create_direct(ADA, BOB, now=T0)
    with pytest.raises(NotAGroup):
        chats.add(direct.summary.chat_id, ADA.user_id, [CY])


def test_leaving_removes_the_participant_and_the_last_one_out_ends_the_chat(chats, dynamodb, table):
    """A leave removes the member item; a second leave is ChatNotFound; the last deletes the
    chat itself."""
    chat = chats.create_group(ADA, "lab", [BOB], now=T0)
    chat_id = chat.summary.chat_id
    assert chats.leave(chat_id, BOB.user_id) is False
    with pytest.raises(ChatNotFound):
        chats.leave(chat_id, BOB.user_id)
    assert members(dynamodb, table, chat_id) == {ADA.user_id}
    assert chats.leave(chat_id, ADA.user_id) is True
    assert [i for i in scan_all(dynamodb, table) if i["pk"]["S"] == f"chat#{chat_id}"] == []
    with pytest.raises(ChatNotFound):
        chats.next_seq(chat_id)


def test_a_direct_chat_cannot_be_left(chats):
    """Leaving a direct chat is NotAGroup, and both stay participants."""
    chat, _ = chats.create_direct(ADA, BOB, now=T0)
    with pytest.raises(NotAGroup):
        chats.leave(chat.summary.chat_id, ADA.user_id)
    assert len(chats.detail(chat.summary.chat_id, BOB.user_id).participants) == 2


# -- sequence numbers, lists, read markers --------------------------------------------------------


def test_sequence_numbers_count_up_and_mark_activity(chats, dynamodb, table):
    """next_seq gives 1, 2, 3 and stamps the chat's last activity."""
    chat = chats.create_group(ADA, "lab", [BOB], now=T0)
    chat_id = chat.summary.chat_id
    assert [chats.next_seq(chat_id, now=T0 + n) for n in range(1, 4)] == [1, 2, 3]
    meta = dynamodb.get_item(TableName=table, Key=keys.chat_meta_key(chat_id))["Item"]
    assert meta["lastActivity"]["N"] == str(T0 + 3)


def test_recording_a_message_updates_every_list_entry_once(chats):
    """record() moves each participant's entry to the message; the sender has read it; a
    repeat, or an older message after a newer one, changes nothing."""
    chat = chats.create_group(ADA, "lab", [BOB, CY], now=T0)
    chat_id = chat.summary.chat_id
    assert chats.record(message(chat_id, 2, text="x" * 300)) == 3
    assert chats.record(message(chat_id, 2)) == 0
    assert chats.record(message(chat_id, 1)) == 0
    for person, unread in ((ADA, 2), (BOB, 0), (CY, 2)):
        entry = chats.summary(chat_id, person.user_id)
        assert (entry.last_seq, entry.unread_count) == (2, unread), person
        assert entry.last_message is not None and entry.last_message.preview == "x" * 200
        assert entry.last_activity == T0 + 2000
    assert chats.detail(chat_id, ADA.user_id).summary.last_message.seq == 2


def test_chat_lists_are_newest_first_and_page_without_repeats(chats):
    """list_chats orders a user's chats by last activity and pages with the returned position."""
    made = [chats.create_group(ADA, f"g{n}", [BOB], now=T0 + n).summary.chat_id for n in range(5)]
    chats.record(message(made[1], 1))  # the oldest but one becomes the newest
    expected = [made[1], made[4], made[3], made[2], made[0]]
    seen, after = [], None
    for _ in range(5):
        page, after = chats.list_chats(ADA.user_id, 2, after)
        seen += [c.chat_id for c in page]
        if after is None:
            break
    assert seen == expected
    assert chats.list_chats(CY.user_id, 10, None) == ([], None)


def test_a_read_marker_moves_forward_only(chats):
    """mark_read sets readSeq up to a seq and never back; an outsider gets ChatNotFound."""
    chat = chats.create_group(ADA, "lab", [BOB], now=T0)
    chat_id = chat.summary.chat_id
    chats.record(message(chat_id, 5))
    assert chats.mark_read(chat_id, ADA.user_id, 4).unread_count == 1
    assert chats.mark_read(chat_id, ADA.user_id, 2).read_seq == 4
    with pytest.raises(ChatNotFound):
        chats.mark_read(chat_id, CY.user_id, 1)
