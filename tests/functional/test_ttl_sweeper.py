"""`sweep_expired` (reference_stack/local/ttl_sweeper.py) deletes only items past their TTL.

The tables here have no TTL setting, so DynamoDB Local's own expiry never acts behind the
sweeper; the last test shows that expiry, which the stage relies on instead of the sweeper.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import boto3
import pytest

from reference_stack.local.ttl_sweeper import sweep_expired
from tests.functional.helpers import scan_all

NOW = 1_700_000_000


@pytest.fixture
def table(make_table) -> str:
    return make_table("connections").name


def put(dynamodb, table, pk, ttl=None, ttl_type="N"):
    item = {"pk": {"S": pk}, "sk": {"S": "meta"}}
    if ttl is not None:
        item["ttl"] = {ttl_type: str(ttl)}
    dynamodb.put_item(TableName=table, Item=item)


def remaining(dynamodb, table) -> set[str]:
    return {i["pk"]["S"] for i in scan_all(dynamodb, table)}


def test_sweep_deletes_only_expired_items(dynamodb, table):
    """Items whose ttl is in the past go; future, current and TTL-less items stay."""
    put(dynamodb, table, "expired-long-ago", NOW - 86400)
    put(dynamodb, table, "expired-just-now", NOW - 1)
    put(dynamodb, table, "expires-this-second", NOW)
    put(dynamodb, table, "future", NOW + 1)
    put(dynamodb, table, "no-ttl")
    assert sweep_expired(dynamodb, table, "ttl", now=NOW + 0.9) == 2
    assert remaining(dynamodb, table) == {"expires-this-second", "future", "no-ttl"}


def test_sweep_of_a_table_with_nothing_expired_deletes_nothing(dynamodb, table):
    """A sweep with nothing expired is a no-op that reports 0."""
    put(dynamodb, table, "future", NOW + 60)
    assert sweep_expired(dynamodb, table, "ttl", now=NOW) == 0
    assert remaining(dynamodb, table) == {"future"}


def test_sweep_twice_deletes_nothing_the_second_time(dynamodb, table):
    """Once swept, the expired items are gone and a second sweep finds none."""
    for n in range(30):
        put(dynamodb, table, f"old-{n}", NOW - 10)
    put(dynamodb, table, "future", NOW + 10)
    assert sweep_expired(dynamodb, table, "ttl", now=NOW) == 30
    assert sweep_expired(dynamodb, table, "ttl", now=NOW) == 0
    assert remaining(dynamodb, table) == {"future"}


def test_sweep_uses_the_current_time_by_default(dynamodb, table):
    """Without ``now`` the sweep compares against the clock."""
    put(dynamodb, table, "expired", 1)
    put(dynamodb, table, "far-future", 4_000_000_000)
    assert sweep_expired(dynamodb, table, "ttl") == 1
    assert remaining(dynamodb, table) == {"far-future"}


def test_sweep_honours_the_attribute_name_it_is_given(dynamodb, table):
    """Only the named attribute is read as the expiry time."""
    dynamodb.put_item(
        TableName=table,
        Item={"pk": {"S": "other-attr"}, "sk": {"S": "meta"}, "expiresAt": {"N": str(NOW - 5)}},
    )
    put(dynamodb, table, "ttl-attr", NOW - 5)
    assert sweep_expired(dynamodb, table, "expiresAt", now=NOW) == 1
    assert remaining(dynamodb, table) == {"ttl-attr"}


def test_sweep_reads_the_table_in_small_pages(dynamodb, table):
    """Expired items past one scan page are all found: the sweep pages through the table
    (small pages keep the embedded AWS free for other requests between them)."""
    from reference_stack.local.ttl_sweeper import SCAN_PAGE_ITEMS

    for n in range(SCAN_PAGE_ITEMS + 50):
        put(dynamodb, table, f"p{n}", ttl=NOW - 1)
    limits = []

    def record(params, **_):
        limits.append(params.get("Limit"))

    dynamodb.meta.events.register("provide-client-params.dynamodb.Scan", record)
    try:
        assert sweep_expired(dynamodb, table, "ttl", now=NOW) == SCAN_PAGE_ITEMS + 50
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.Scan", record)
    assert len(limits) >= 2 and set(limits) == {SCAN_PAGE_ITEMS}
    assert remaining(dynamodb, table) == set()


async def test_dynamodb_local_expires_items_itself(dynamodb_local, stack):
    """With TTL enabled, DynamoDB Local deletes expired items on its own (so the stage runs no
    sweeper there), and keeps the others."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local,
        region_name="us-east-1",
        aws_access_key_id="functional",
        aws_secret_access_key="functional",
    )
    table = f"ft-expiry-{uuid.uuid4().hex[:12]}"
    dynamodb.create_table(**stack.tables["connections"].create_table_kwargs(table))
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    try:
        now = int(time.time())
        put(dynamodb, table, "expired", now - 60)
        put(dynamodb, table, "future", now + 3600)
        deadline = asyncio.get_running_loop().time() + 60
        while remaining(dynamodb, table) != {"future"}:
            assert asyncio.get_running_loop().time() < deadline, remaining(dynamodb, table)
            await asyncio.sleep(0.5)
    finally:
        dynamodb.delete_table(TableName=table)
