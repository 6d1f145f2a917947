"""Connections and room memberships (lambdas/domain/connections.py) against moto's DynamoDB."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lambdas.contract.errors import NotInRoom, TooManyRooms
from lambdas.domain import connections, keys
from lambdas.domain.connections import DEFAULT_ROOM, ConnectionStore, Member
from lambdas.domain.tokens import Identity
from tests.functional.helpers import scan_all

ADA = Identity(user_id="user-ada", username="Ada", email="ada@example.com")
BOB = Identity(user_id="user-bob", username="Bob", email="bob@example.com")
TTL = 3600


@pytest.fixture
def table(make_table) -> str:
    return make_table("connections").name


@pytest.fixture
def store(dynamodb, table) -> ConnectionStore:
    return ConnectionStore(dynamodb, table, ttl_seconds=TTL, max_rooms=50)


def meta(dynamodb, table, connection_id) -> dict | None:
    return dynamodb.get_item(
        TableName=table, Key=keys.connection_key(connection_id), ConsistentRead=True
    ).get("Item")


def rooms_of(dynamodb, table, connection_id) -> set[str]:
    item = meta(dynamodb, table, connection_id)
    assert item is not None
    return set(item.get("rooms", {}).get("SS", []))


def items_of(dynamodb, table, connection_id) -> list[dict]:
    return [
        i
        for i in scan_all(dynamodb, table)
        if i["pk"]["S"] == f"conn#{connection_id}" or i["sk"]["S"] == f"conn#{connection_id}"
    ]


class SmallPages:
    """A DynamoDB client whose paginators fetch ``page_size`` items per request."""

    def __init__(self, real: Any, page_size: int) -> None:
        self._real = real
        self._page_size = page_size
        self.pages = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def get_paginator(self, operation: str) -> Any:
        paginator = self._real.get_paginator(operation)
        outer = self

        class Counting:
            def paginate(self, **kwargs: Any) -> Any:
                kwargs["PaginationConfig"] = {"PageSize": outer._page_size}
                for page in paginator.paginate(**kwargs):
                    outer.pages += 1
                    yield page

        return Counting()


class StaleMetaOnce:
    """A DynamoDB client whose first read of one connection's record returns an old copy.

    It replays the interleaving of two joins racing: both read the record before either writes.
    """

    def __init__(self, real: Any, connection_id: str, stale: dict) -> None:
        self._real = real
        self._key = keys.connection_key(connection_id)
        self._stale: dict | None = stale

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def get_item(self, **kwargs: Any) -> Any:
        if kwargs.get("Key") == self._key and self._stale is not None:
            stale, self._stale = self._stale, None
            return {"Item": stale}
        return self._real.get_item(**kwargs)


class Recording:
    """A DynamoDB client that records the name of each call made through it."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if not callable(attribute) or name in ("exceptions", "get_paginator"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return call


class UnprocessedFirst:
    """A DynamoDB client whose first ``failures`` batch writes process nothing."""

    def __init__(self, real: Any, failures: int) -> None:
        self._real = real
        self._failures = failures
        self.batches = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def batch_write_item(self, **kwargs: Any) -> Any:
        self.batches += 1
        if self.batches <= self._failures:
            return {"UnprocessedItems": kwargs["RequestItems"]}
        return self._real.batch_write_item(**kwargs)


@pytest.fixture
def no_sleep(monkeypatch) -> list[float]:
    """Backoff sleeps of lambdas.domain.connections, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(connections.time, "sleep", slept.append)
    return slept


# --- add / member --------------------------------------------------------------------------------


def test_add_stores_the_connection_joined_to_general(store, dynamodb, table):
    """A new connection's record names its user and the room general, with a TTL."""
    store.add("conn-1=", ADA, now=1_700_000_000.5)
    item = meta(dynamodb, table, "conn-1=")
    assert item is not None
    assert item["userId"]["S"] == "user-ada"
    assert item["username"]["S"] == "Ada"
    assert item["email"]["S"] == "ada@example.com"
    assert item["connectedAt"]["N"] == "1700000000500"
    assert item["ttl"]["N"] == str(1_700_000_000 + TTL)
    assert rooms_of(dynamodb, table, "conn-1=") == {DEFAULT_ROOM} == {"general"}
    assert list(store.members("general")) == ["conn-1="]


def test_add_writes_the_record_and_the_general_membership_in_one_batch(dynamodb, table):
    """$connect is one batch of two puts (no transaction): the record and its membership."""
    client = Recording(dynamodb)
    ConnectionStore(client, table, ttl_seconds=TTL, max_rooms=50).add(
        "conn-1=", ADA, now=1_700_000_000
    )
    assert client.calls == ["batch_write_item"]
    items = {i["sk"]["S"]: i for i in items_of(dynamodb, table, "conn-1=")}
    assert set(items) == {"meta", "conn#conn-1="}
    assert items["meta"]["pk"]["S"] == "conn#conn-1="
    membership = items["conn#conn-1="]
    assert membership["pk"]["S"] == "room#general"
    # Small: read per message. connectedAt tells a 410 during the handshake from a gone client.
    assert set(membership) == {"pk", "sk", "userId", "username", "connectedAt", "ttl"}
    assert membership["userId"]["S"] == "user-ada"
    assert membership["username"]["S"] == "Ada"
    assert membership["ttl"]["N"] == str(1_700_000_000 + TTL)


def test_add_retries_unprocessed_items_with_backoff(dynamodb, table, no_sleep):
    """Items DynamoDB left unprocessed are written again after a growing pause."""
    client = UnprocessedFirst(dynamodb, failures=2)
    ConnectionStore(client, table, ttl_seconds=TTL, max_rooms=50).add("conn-1=", ADA)
    assert client.batches == 3
    assert no_sleep == [0.05, 0.1]
    assert len(items_of(dynamodb, table, "conn-1=")) == 2


def test_add_raises_when_items_stay_unprocessed(dynamodb, table, no_sleep):
    """After a bounded number of attempts, still-unprocessed items are an error, not a loss."""
    client = UnprocessedFirst(dynamodb, failures=1000)
    store = ConnectionStore(client, table, ttl_seconds=TTL, max_rooms=50)
    with pytest.raises(RuntimeError, match=r"store connection conn-1=: 2 item\(s\) still"):
        store.add("conn-1=", ADA)
    assert client.batches == connections.BATCH_ATTEMPTS
    assert len(no_sleep) == connections.BATCH_ATTEMPTS - 1
    assert scan_all(dynamodb, table) == []


def test_member_names_the_user_behind_a_joined_connection(store):
    """member() returns who is behind a connection in a room it joined."""
    store.add("conn-1=", ADA)
    assert store.member("conn-1=", "general") == Member("conn-1=", "user-ada", "Ada")


def test_member_refuses_a_room_not_joined(store):
    """member() raises NotInRoom for a room the connection did not join."""
    store.add("conn-1=", ADA)
    with pytest.raises(NotInRoom) as caught:
        store.member("conn-1=", "elsewhere")
    assert caught.value.code == "NOT_IN_ROOM"


def test_member_refuses_an_unknown_connection(store):
    """member() raises NotInRoom for a connection that was never stored."""
    with pytest.raises(NotInRoom):
        store.member("nobody=", "general")


# --- join ----------------------------------------------------------------------------------------


def test_join_adds_the_room_and_a_membership_with_the_connection_ttl(store, dynamodb, table):
    """Joining records the room on the connection and a membership item expiring with it."""
    store.add("conn-1=", ADA, now=1_700_000_000)
    store.join("conn-1=", "dev")
    assert rooms_of(dynamodb, table, "conn-1=") == {"general", "dev"}
    assert store.member("conn-1=", "dev") == Member("conn-1=", "user-ada", "Ada")
    membership = dynamodb.get_item(
        TableName=table, Key=keys.membership_key("dev", "conn-1="), ConsistentRead=True
    )["Item"]
    assert membership["ttl"]["N"] == str(1_700_000_000 + TTL)
    assert membership["pk"]["S"] == "room#dev"


def test_join_twice_is_idempotent(store, dynamodb, table):
    """Joining a room already joined changes nothing and raises nothing."""
    store.add("conn-1=", ADA)
    store.join("conn-1=", "dev")
    store.join("conn-1=", "dev")
    store.join("conn-1=", "general")
    assert rooms_of(dynamodb, table, "conn-1=") == {"general", "dev"}
    assert list(store.members("dev")) == ["conn-1="]
    assert len(items_of(dynamodb, table, "conn-1=")) == 3


def test_join_beyond_max_rooms_is_refused(dynamodb, table):
    """With max_rooms 3, general plus two rooms fill the connection; a fourth is refused."""
    store = ConnectionStore(dynamodb, table, ttl_seconds=TTL, max_rooms=3)
    store.add("conn-1=", ADA)
    store.join("conn-1=", "a")
    store.join("conn-1=", "b")
    with pytest.raises(TooManyRooms) as caught:
        store.join("conn-1=", "c")
    assert caught.value.code == "TOO_MANY_ROOMS"
    assert rooms_of(dynamodb, table, "conn-1=") == {"general", "a", "b"}
    assert list(store.members("c")) == []
    store.join("conn-1=", "a")  # re-joining a room already joined is still fine at the limit


def test_join_after_leaving_frees_a_place(dynamodb, table):
    """Leaving a room at the limit lets the connection join another."""
    store = ConnectionStore(dynamodb, table, ttl_seconds=TTL, max_rooms=2)
    store.add("conn-1=", ADA)
    store.join("conn-1=", "a")
    store.leave("conn-1=", "a")
    store.join("conn-1=", "b")
    assert rooms_of(dynamodb, table, "conn-1=") == {"general", "b"}


def test_concurrent_joins_at_the_limit_admit_exactly_one(dynamodb, table):
    """Eight joins racing for the last place: one succeeds, seven get TooManyRooms."""
    store = ConnectionStore(dynamodb, table, ttl_seconds=TTL, max_rooms=3)
    store.add("conn-1=", ADA)
    store.join("conn-1=", "a")
    threads = 8
    barrier = threading.Barrier(threads)

    def attempt(index: int) -> str:
        barrier.wait(timeout=10)
        try:
            store.join("conn-1=", f"race-{index}")
        except TooManyRooms:
            return "refused"
        return "joined"

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(attempt, range(threads)))
    assert sorted(outcomes) == ["joined"] + ["refused"] * (threads - 1)
    rooms = rooms_of(dynamodb, table, "conn-1=")
    assert len(rooms) == 3
    (won,) = rooms - {"general", "a"}
    assert list(store.members(won)) == ["conn-1="]
    memberships = [i for i in items_of(dynamodb, table, "conn-1=") if i["sk"]["S"] != "meta"]
    assert len(memberships) == 3


def test_join_racing_a_join_of_the_same_room_at_the_limit_is_fine(dynamodb, table):
    """Two joins of one room racing for the last place both succeed: joining twice is fine."""
    store = ConnectionStore(dynamodb, table, ttl_seconds=TTL, max_rooms=3)
    store.add("conn-1=", ADA)
    store.join("conn-1=", "a")
    before_either = meta(dynamodb, table, "conn-1=")
    store.join("conn-1=", "b")  # the racing join wins first
    racing = ConnectionStore(
        StaleMetaOnce(dynamodb, "conn-1=", before_either), table, ttl_seconds=TTL, max_rooms=3
    )
    racing.join("conn-1=", "b")
    assert rooms_of(dynamodb, table, "conn-1=") == {"general", "a", "b"}


def test_join_is_an_update_a_put_and_a_check_without_transaction(dynamodb, table):
    """joinRoom costs two single-item writes — the record's update, then the membership put —
    and a read of the record to check that no leave ran between them."""
    ConnectionStore(dynamodb, table, ttl_seconds=TTL, max_rooms=50).add("conn-1=", ADA)
    client = Recording(dynamodb)
    ConnectionStore(client, table, ttl_seconds=TTL, max_rooms=50).join("conn-1=", "dev")
    assert client.calls == ["update_item", "put_item", "get_item"]


class BeforeMembershipPut:
    """A DynamoDB client that runs ``meanwhile`` just before the first membership put."""

    def __init__(self, real: Any, meanwhile: Any) -> None:
        self._real, self._meanwhile = real, meanwhile

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def put_item(self, **kwargs: Any) -> Any:
        if self._meanwhile is not None and kwargs["Item"]["sk"]["S"].startswith("conn#"):
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile()
        return self._real.put_item(**kwargs)


def test_a_leave_between_the_joins_two_writes_leaves_no_membership(store, dynamodb, table):
    """join and leave of one room racing: the leave runs after the join's update and before
    its put. The join takes its membership back, so the room's broadcasts skip the connection."""
    store.add("conn-1=", ADA)
    racing = BeforeMembershipPut(dynamodb, lambda: store.leave("conn-1=", "dev"))
    ConnectionStore(racing, table, ttl_seconds=TTL, max_rooms=50).join("conn-1=", "dev")
    assert "dev" not in rooms_of(dynamodb, table, "conn-1=")
    assert list(store.members("dev")) == []


def test_a_disconnect_between_the_joins_two_writes_leaves_nothing(store, dynamodb, table):
    """The connection is removed between the join's two writes: the join fails as for a
    closed connection, and no membership is left behind."""
    store.add("conn-1=", ADA)
    racing = BeforeMembershipPut(dynamodb, lambda: store.remove("conn-1="))
    with pytest.raises(LookupError):
        ConnectionStore(racing, table, ttl_seconds=TTL, max_rooms=50).join("conn-1=", "dev")
    assert scan_all(dynamodb, table) == []


def test_join_again_repairs_a_membership_missing_after_an_interrupted_join(store, dynamodb, table):
    """The record lists the room but the membership is missing (a join stopped between its
    two writes): the client's retried join puts the membership back, so broadcasts reach it."""
    store.add("conn-1=", ADA, now=1_700_000_000)
    store.join("conn-1=", "dev")
    dynamodb.delete_item(TableName=table, Key=keys.membership_key("dev", "conn-1="))
    assert list(store.members("dev")) == []
    store.join("conn-1=", "dev")
    assert list(store.members("dev")) == ["conn-1="]
    assert store.member("conn-1=", "dev") == Member("conn-1=", "user-ada", "Ada")
    membership = dynamodb.get_item(
        TableName=table, Key=keys.membership_key("dev", "conn-1="), ConsistentRead=True
    )["Item"]
    assert membership["ttl"]["N"] == str(1_700_000_000 + TTL)
    assert rooms_of(dynamodb, table, "conn-1=") == {"general", "dev"}


def test_join_at_the_limit_repairs_a_listed_room_and_refuses_a_new_one(dynamodb, table):
    """At max rooms, a listed room's missing membership is still repaired; a new room is
    refused and writes nothing."""
    store = ConnectionStore(dynamodb, table, ttl_seconds=TTL, max_rooms=2)
    store.add("conn-1=", ADA)
    store.join("conn-1=", "a")
    dynamodb.delete_item(TableName=table, Key=keys.membership_key("a", "conn-1="))
    store.join("conn-1=", "a")
    assert list(store.members("a")) == ["conn-1="]
    before = items_of(dynamodb, table, "conn-1=")
    with pytest.raises(TooManyRooms):
        store.join("conn-1=", "b")
    assert list(store.members("b")) == []
    assert rooms_of(dynamodb, table, "conn-1=") == {"general", "a"}
    assert sorted(map(str, items_of(dynamodb, table, "conn-1="))) == sorted(map(str, before))


def test_join_after_leaving_every_room_is_allowed(store, dynamodb, table):
    """A record listing no room at all (its set attribute is gone) may join again."""
    store.add("conn-1=", ADA)
    store.leave("conn-1=", "general")
    assert "rooms" not in meta(dynamodb, table, "conn-1=")
    store.join("conn-1=", "dev")
    assert rooms_of(dynamodb, table, "conn-1=") == {"dev"}
    assert list(store.members("dev")) == ["conn-1="]


def test_join_of_an_unknown_connection_raises_lookup_error(store, dynamodb, table):
    """Joining from a connection that is not stored (closed meanwhile) writes nothing."""
    with pytest.raises(LookupError):
        store.join("gone=", "dev")
    assert scan_all(dynamodb, table) == []


def test_join_of_a_connection_removed_after_it_was_read_raises_lookup_error(dynamodb, table):
    """A removal between the read and the write cancels the join instead of orphaning it."""
    store = ConnectionStore(dynamodb, table, ttl_seconds=TTL, max_rooms=50)
    store.add("conn-1=", ADA)
    read_before_removal = meta(dynamodb, table, "conn-1=")
    store.remove("conn-1=")
    racing = ConnectionStore(
        StaleMetaOnce(dynamodb, "conn-1=", read_before_removal), table, TTL, max_rooms=50
    )
    with pytest.raises(LookupError):
        racing.join("conn-1=", "dev")
    assert scan_all(dynamodb, table) == []


def test_join_of_a_removed_connection_raises_lookup_error_and_writes_nothing(
    store, dynamodb, table
):
    """Joining after $disconnect removed the connection neither recreates its record (which
    would never be deleted) nor leaves a membership behind."""
    store.add("conn-1=", ADA)
    store.join("conn-1=", "dev")
    store.remove("conn-1=")
    with pytest.raises(LookupError):
        store.join("conn-1=", "dev")
    with pytest.raises(LookupError):
        store.join("conn-1=", "other")
    assert scan_all(dynamodb, table) == []


# --- leave ---------------------------------------------------------------------------------------


def test_leave_removes_the_room_and_the_membership(store, dynamodb, table):
    """After leaving, the connection is neither listed in nor a member of the room."""
    store.add("conn-1=", ADA)
    store.join("conn-1=", "dev")
    store.leave("conn-1=", "dev")
    assert rooms_of(dynamodb, table, "conn-1=") == {"general"}
    assert list(store.members("dev")) == []
    with pytest.raises(NotInRoom):
        store.member("conn-1=", "dev")


def test_leave_general_is_allowed(store, dynamodb, table):
    """The default room can be left like any other."""
    store.add("conn-1=", ADA)
    store.leave("conn-1=", "general")
    assert list(store.members("general")) == []
    assert meta(dynamodb, table, "conn-1=") is not None


def test_leave_a_room_not_joined_is_fine(store, dynamodb, table):
    """Leaving a room never joined raises nothing and changes nothing."""
    store.add("conn-1=", ADA)
    store.leave("conn-1=", "never-joined")
    assert rooms_of(dynamodb, table, "conn-1=") == {"general"}
    assert len(items_of(dynamodb, table, "conn-1=")) == 2


def test_leave_by_a_connection_that_is_gone_leaves_nothing_behind(store, dynamodb, table):
    """A leaveRoom racing the connection's removal must not recreate its record."""
    store.add("conn-1=", ADA)
    store.remove("conn-1=")
    store.leave("conn-1=", "general")
    assert scan_all(dynamodb, table) == []


def test_leave_again_deletes_a_membership_left_by_an_interrupted_leave(store, dynamodb, table):
    """The record no longer lists the room but the membership is still there (a leave stopped
    between its two writes): the retried leave deletes it."""
    store.add("conn-1=", ADA)
    store.join("conn-1=", "dev")
    dynamodb.update_item(
        TableName=table,
        Key=keys.connection_key("conn-1="),
        UpdateExpression="DELETE rooms :rooms",
        ExpressionAttributeValues={":rooms": {"SS": ["dev"]}},
    )
    assert list(store.members("dev")) == ["conn-1="]
    store.leave("conn-1=", "dev")
    assert list(store.members("dev")) == []
    assert rooms_of(dynamodb, table, "conn-1=") == {"general"}


# --- members -------------------------------------------------------------------------------------


def test_members_lists_only_the_connections_of_that_room(store):
    """members() returns exactly the room's connections, never another room's."""
    store.add("c1=", ADA)
    store.add("c2=", BOB)
    store.add("c3=", ADA)
    store.join("c1=", "a")
    store.join("c3=", "ab")
    store.leave("c3=", "general")
    assert sorted(store.members("general")) == ["c1=", "c2="]
    assert list(store.members("a")) == ["c1="]
    assert list(store.members("ab")) == ["c3="]
    assert list(store.members("nobody-here")) == []


def test_members_pages_through_a_large_room(dynamodb, table):
    """With 7 items per page, all 30 members of a room are listed exactly once."""
    writer = ConnectionStore(dynamodb, table, ttl_seconds=TTL, max_rooms=50)
    ids = [f"conn-{n:02d}=" for n in range(30)]
    for connection_id in ids:
        writer.add(connection_id, ADA)
    writer.add("elsewhere=", BOB)
    writer.leave("elsewhere=", "general")
    paged_client = SmallPages(dynamodb, page_size=7)
    reader = ConnectionStore(paged_client, table, ttl_seconds=TTL, max_rooms=50)
    listed = list(reader.members("general"))
    assert sorted(listed) == ids
    assert len(listed) == len(set(listed)) == 30
    assert paged_client.pages >= 5


# --- remove --------------------------------------------------------------------------------------


def test_remove_deletes_the_connection_and_every_membership(store, dynamodb, table):
    """Removal deletes the record and each room's membership, and nobody else's items."""
    store.add("conn-1=", ADA)
    store.add("conn-2=", BOB)
    for room in ("a", "b", "c"):
        store.join("conn-1=", room)
    store.join("conn-2=", "a")
    store.remove("conn-1=")
    assert items_of(dynamodb, table, "conn-1=") == []
    assert list(store.members("a")) == ["conn-2="]
    assert list(store.members("general")) == ["conn-2="]
    assert len(items_of(dynamodb, table, "conn-2=")) == 3


def test_remove_twice_is_fine(store, dynamodb, table):
    """Removing a connection again, or one never stored, raises nothing."""
    store.add("conn-1=", ADA)
    store.remove("conn-1=")
    store.remove("conn-1=")
    store.remove("never-stored=")
    assert scan_all(dynamodb, table) == []


def test_remove_deletes_more_than_25_items(dynamodb, table):
    """A connection in 40 rooms (41 items) is removed completely across batches."""
    store = ConnectionStore(dynamodb, table, ttl_seconds=TTL, max_rooms=50)
    store.add("conn-1=", ADA)
    for n in range(39):
        store.join("conn-1=", f"room-{n}")
    assert len(items_of(dynamodb, table, "conn-1=")) == 41
    store.remove("conn-1=")
    assert scan_all(dynamodb, table) == []


def test_remove_deletes_a_named_room_membership_the_record_does_not_list(store, dynamodb, table):
    """A membership orphaned by a race is deleted when its room is named."""
    store.add("conn-1=", ADA)
    orphan = {
        **keys.membership_key("orphan", "conn-1="),
        "userId": {"S": "user-ada"},
        "username": {"S": "Ada"},
        "ttl": {"N": "9999999999"},
    }
    dynamodb.put_item(TableName=table, Item=orphan)
    store.remove("conn-1=", "orphan")
    assert scan_all(dynamodb, table) == []


def test_remove_of_an_expired_record_still_deletes_the_named_membership(store, dynamodb, table):
    """With the record already gone, removal by room deletes that room's membership."""
    store.add("conn-1=", ADA)
    dynamodb.delete_item(TableName=table, Key=keys.connection_key("conn-1="))
    store.remove("conn-1=", "general")
    assert scan_all(dynamodb, table) == []


# --- remove_gone: a 410 from @connections --------------------------------------------------------

T_CONNECT = 1_700_000_000.0


def test_a_410_during_the_handshake_keeps_the_new_connection(store, dynamodb, table):
    """A connection stored a second ago answers 410 while API Gateway completes its handshake:
    its record and its general membership stay."""
    store.add("conn-1=", ADA, now=T_CONNECT)
    assert store.remove_gone("conn-1=", "general", now=T_CONNECT + 1) is False
    assert rooms_of(dynamodb, table, "conn-1=") == {"general"}
    assert list(store.members("general")) == ["conn-1="]


def test_a_410_after_the_grace_period_removes_the_connection(store, dynamodb, table):
    """A connection older than the handshake grace that answers 410 is gone: all its items go."""
    store.add("conn-1=", ADA, now=T_CONNECT)
    store.join("conn-1=", "lab")
    later = T_CONNECT + connections.HANDSHAKE_GRACE_SECONDS + 1
    assert store.remove_gone("conn-1=", "lab", now=later) is True
    assert items_of(dynamodb, table, "conn-1=") == []


def test_a_410_before_the_record_is_written_keeps_the_new_membership(store, dynamodb, table):
    """$connect's batch may land the membership a moment before the record: a 410 then keeps
    the young membership, which carries its connection's connectedAt."""
    store.add("conn-1=", ADA, now=T_CONNECT)
    dynamodb.delete_item(TableName=table, Key=keys.connection_key("conn-1="))
    assert store.remove_gone("conn-1=", "general", now=T_CONNECT + 1) is False
    assert list(store.members("general")) == ["conn-1="]


def test_a_410_for_an_expired_record_deletes_the_old_membership(store, dynamodb, table):
    """With the record gone and the membership old (or from before connectedAt was stored), the
    membership is deleted."""
    store.add("conn-1=", ADA, now=T_CONNECT)
    dynamodb.delete_item(TableName=table, Key=keys.connection_key("conn-1="))
    legacy = {**keys.membership_key("lab", "conn-1="), "userId": {"S": "u"}, "username": {"S": "u"}}
    dynamodb.put_item(TableName=table, Item=legacy)
    later = T_CONNECT + connections.HANDSHAKE_GRACE_SECONDS + 1
    assert store.remove_gone("conn-1=", "general", now=later) is True
    assert store.remove_gone("conn-1=", "lab", now=T_CONNECT + 1) is True
    assert scan_all(dynamodb, table) == []


def test_memberships_carry_their_connections_connected_at(store, dynamodb, table):
    """Both $connect's general membership and a joined room's carry connectedAt (ms)."""
    store.add("conn-1=", ADA, now=T_CONNECT)
    store.join("conn-1=", "lab")
    for room in ("general", "lab"):
        item = dynamodb.get_item(TableName=table, Key=keys.membership_key(room, "conn-1="))
        assert item["Item"]["connectedAt"]["N"] == str(int(T_CONNECT * 1000))
