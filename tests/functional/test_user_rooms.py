"""Rooms that belong to users (lambdas/domain/rooms.py, sessions.py) and a user's open
connections (connections.py), against the embedded AWS."""

from __future__ import annotations

import json

import pytest

from lambdas.contract.errors import TooManyRooms
from lambdas.domain import keys
from lambdas.domain.connections import ConnectionStore
from lambdas.domain.fanout import ConnectionGone, OneAtATime
from lambdas.domain.rooms import UserRooms
from lambdas.domain.sessions import join_room, leave_room, open_connection
from lambdas.domain.tokens import Identity
from tests.functional.helpers import scan_all

ADA = Identity("user-ada", "ada", "ada@example.com")
BOB = Identity("user-bob", "bob", "bob@example.com")
T0 = 1_700_000_000.0


class Recorder(OneAtATime):
    """A poster that records frames per connection; ids in ``gone`` answer 410."""

    def __init__(self, gone=()):
        self.frames: dict[str, list[dict]] = {}
        self.gone = set(gone)

    def post(self, connection_id: str, data: bytes) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        self.frames.setdefault(connection_id, []).append(json.loads(data))


@pytest.fixture
def rooms(dynamodb, make_table) -> UserRooms:
    return UserRooms(dynamodb, make_table("chats").name, max_rooms=3)


@pytest.fixture
def connections(dynamodb, make_table) -> ConnectionStore:
    return ConnectionStore(dynamodb, make_table("connections").name, 86400, max_rooms=3)


def directory(rooms: UserRooms, prefix: str = "") -> dict[str, int]:
    entries, _ = rooms.directory(prefix, 50, None)
    return dict(entries)


# -- the user's rooms and the directory -----------------------------------------------------------


def test_a_new_user_is_in_general_and_joins_count_once(rooms):
    """Without a rooms item a user is in general; a join adds a room and counts the user once."""
    assert rooms.rooms_of(ADA.user_id) == {"general"}
    assert rooms.join(ADA.user_id, "Lab") is True
    assert rooms.join(ADA.user_id, "Lab") is False
    rooms.join(BOB.user_id, "Lab")
    assert rooms.rooms_of(ADA.user_id) == {"general", "Lab"}
    assert directory(rooms) == {"Lab": 2}


def test_leaving_uncounts_and_the_last_one_out_removes_the_entry(rooms):
    """A leave lowers the count once; at zero the room is no longer in the directory."""
    rooms.join(ADA.user_id, "lab")
    rooms.join(BOB.user_id, "lab")
    assert rooms.leave(ADA.user_id, "lab") is True
    assert rooms.leave(ADA.user_id, "lab") is False
    assert directory(rooms) == {"lab": 1}
    rooms.leave(BOB.user_id, "lab")
    assert directory(rooms) == {}


def test_leaving_general_is_for_good(rooms):
    """A user who left general is in no room, and stays so."""
    assert rooms.leave(ADA.user_id, "general") is True
    assert rooms.rooms_of(ADA.user_id) == set()
    rooms.join(ADA.user_id, "lab")
    assert rooms.rooms_of(ADA.user_id) == {"lab"}


def test_a_user_may_be_in_max_rooms(rooms):
    """With general, max_rooms rooms in all; one more is TooManyRooms, a room already in is fine."""
    rooms.join(ADA.user_id, "a")
    rooms.join(ADA.user_id, "b")
    with pytest.raises(TooManyRooms):
        rooms.join(ADA.user_id, "c")
    assert rooms.join(ADA.user_id, "a") is False
    assert "c" not in directory(rooms)


def test_the_directory_finds_by_prefix_in_any_case_and_pages(rooms):
    """Prefix search ignores letter case; pages follow the returned position, each room once."""
    for index, room in enumerate(("Alpha", "alps", "Beta", "al_x")):
        rooms.join(f"user-{index}", room)
    assert set(directory(rooms, "AL")) == {"Alpha", "alps", "al_x"}
    seen, after = [], None
    for _ in range(5):
        page, after = rooms.directory("al", 2, after)
        seen += [room for room, _ in page]
        if after is None:
            break
    assert seen == ["al_x", "Alpha", "alps"]
    assert rooms.directory("be", 10, "al_x#al_x") == ([], None)  # a cursor of another search


def test_counts_of_rooms_nobody_is_in_are_zero(rooms):
    """counts() gives each room's members, 0 for an empty one."""
    rooms.join(ADA.user_id, "lab")
    assert rooms.counts(["lab", "void"]) == {"lab": 1, "void": 0}


# -- connections of a user ------------------------------------------------------------------------


def test_a_connection_starts_in_its_users_rooms_and_is_found_among_them(connections, rooms):
    """open_connection joins the user's rooms and registers the connection with its user."""
    rooms.join(ADA.user_id, "lab")
    joined = open_connection(connections, rooms, "conn-1=", ADA, now=T0)
    assert joined == {"general", "lab"}
    assert connections.member("conn-1=", "lab").user_id == ADA.user_id
    assert connections.connections_of([ADA.user_id, BOB.user_id]) == {"conn-1=": ADA.user_id}


def test_removing_a_connection_takes_it_out_of_its_users_set(connections, rooms, dynamodb):
    """remove() deletes record, memberships and the set entry; nothing is created for others."""
    open_connection(connections, rooms, "conn-1=", ADA, now=T0)
    connections.remove("conn-1=")
    assert connections.connections_of([ADA.user_id]) == {}
    connections.remove("conn-2=", user_id=BOB.user_id)  # never registered: writes nothing
    table = connections._table
    leftovers = [i for i in scan_all(dynamodb, table) if i["pk"]["S"] != "user#user-ada"]
    assert leftovers == []


def test_a_gone_connection_is_forgotten_unless_it_just_opened(connections, rooms):
    """forget() leaves a connection opened moments ago (its handshake may not be over) and
    removes an older one."""
    open_connection(connections, rooms, "young=", ADA, now=T0)
    open_connection(connections, rooms, "old=", ADA, now=T0 - 60)
    connections.forget("young=", ADA.user_id, now=T0 + 1)
    connections.forget("old=", ADA.user_id, now=T0 + 1)
    assert connections.connections_of([ADA.user_id]) == {"young=": ADA.user_id}


def test_the_last_connection_found_gone_tells_on_offline_and_an_earlier_one_does_not(
    connections, rooms
):
    """A 410 may be all that is ever heard of a dropped connection (no $disconnect): when it
    was the user's last, ``on_offline`` gets the user's offline presence, from forget() (a
    chat's delivery) as from remove_gone() (a room's)."""
    offline = []
    store = connections
    open_connection(store, rooms, "phone=", ADA, now=T0 - 60)
    open_connection(store, rooms, "laptop=", ADA, now=T0 - 60)
    open_connection(store, rooms, "bob=", BOB, now=T0 - 60)
    assert store.forget("phone=", ADA.user_id, now=T0, on_offline=offline.append) is True
    assert offline == []  # the laptop is still open
    assert store.remove_gone("laptop=", "general", now=T0, on_offline=offline.append) is True
    assert store.remove_gone("bob=", "general", T0 - 59, offline.append) is False  # handshake
    [presence] = offline
    assert (presence.user_id, presence.online) == (ADA.user_id, False)
    assert presence.last_seen >= int(T0 * 1000)
    assert store.connections_of([ADA.user_id, BOB.user_id]) == {"bob=": BOB.user_id}


def test_a_join_reaches_the_users_other_connections_and_tells_them(connections, rooms):
    """join_room joins every open connection of the user; the others get roomJoined."""
    for connection_id in ("phone=", "laptop=", "gone="):
        open_connection(connections, rooms, connection_id, ADA, now=T0 - 60)
    open_connection(connections, rooms, "bob=", BOB, now=T0)
    poster = Recorder(gone={"gone="})
    join_room(connections, rooms, poster, "phone=", "lab")
    assert connections.member("laptop=", "lab").user_id == ADA.user_id
    assert poster.frames == {"laptop=": [{"type": "roomJoined", "roomId": "lab"}]}
    assert connections.connections_of([ADA.user_id]) == {"phone=": ADA.user_id} | {
        "laptop=": ADA.user_id
    }
    assert rooms.rooms_of(ADA.user_id) == {"general", "lab"}
    assert "lab" not in json.dumps(connections._meta("bob=") or {})


def test_a_leave_reaches_the_users_other_connections_and_new_ones(connections, rooms):
    """leave_room leaves on every open connection (roomLeft to the others) and for good."""
    open_connection(connections, rooms, "phone=", ADA, now=T0)
    open_connection(connections, rooms, "laptop=", ADA, now=T0)
    poster = Recorder()
    join_room(connections, rooms, poster, "phone=", "lab")
    leave_room(connections, rooms, poster, "laptop=", "lab")
    assert poster.frames["phone="] == [{"type": "roomLeft", "roomId": "lab"}]
    assert list(connections.members("lab")) == []
    assert "lab" not in open_connection(connections, rooms, "tablet=", ADA, now=T0)


def test_a_join_between_the_reads_of_a_new_connection_is_caught_up(connections, rooms):
    """A room joined on another device after the new connection read the user's rooms, before
    it registered, is joined by the new connection's second read."""
    real_rooms_of = rooms.rooms_of
    calls = []

    def rooms_of(user_id):
        calls.append(user_id)
        if len(calls) == 1:
            first = real_rooms_of(user_id)
            rooms.join(user_id, "late")  # another device, between the two reads
            return first
        return real_rooms_of(user_id)

    rooms.rooms_of = rooms_of  # type: ignore[method-assign]
    joined = open_connection(connections, rooms, "conn-1=", ADA, now=T0)
    assert "late" in joined
    assert connections.member("conn-1=", "late").user_id == ADA.user_id
    item = connections._db.get_item(
        TableName=connections._table, Key=keys.connection_key("conn-1=")
    )
    assert set(item["Item"]["rooms"]["SS"]) == {"general", "late"}
