"""Helpers shared by the functional tests."""

from __future__ import annotations

from typing import Any


def scan_all(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of ``table`` (strongly consistent)."""
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items += page.get("Items", [])
    return items


def stream_records(streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every record of the (single-shard) stream from its start."""
    description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    records: list[dict[str, Any]] = []
    for shard in description["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += page.get("Records", [])
            if not page.get("Records"):
                break
            iterator = page.get("NextShardIterator")
    return records
