"""Deletes items whose TTL has passed, which DynamoDB does on AWS (and DynamoDB Local does)
but moto never does: the stage runs it when moto serves DynamoDB."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from reference_stack.local.logs import log_event

__all__ = ["SCAN_PAGE_ITEMS", "sweep_expired", "sweep_forever"]

SCAN_PAGE_ITEMS = 100
BATCH_ITEMS = 25  # BatchWriteItem's limit


def _delete(dynamodb: Any, table: str, keys: list[dict[str, Any]]) -> None:
    """Delete ``keys`` in batches of 25, retrying what DynamoDB leaves unprocessed."""
    for start in range(0, len(keys), BATCH_ITEMS):
        requests = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH_ITEMS]]
        for _ in range(5):
            answer = dynamodb.batch_write_item(RequestItems={table: requests})
            requests = answer.get("UnprocessedItems", {}).get(table, [])
            if not requests:
                break
            time.sleep(0.05)


def sweep_expired(
    dynamodb: Any, table: str, attribute: str, now: float | None = None, pause: float = 0.0
) -> int:
    """Delete every item of ``table`` whose ``attribute`` (epoch seconds) is past; return count.

    Small pages, deleted 25 at a time, ``pause`` seconds apart: moto answers one request at a
    time, and a sweep in one go held every broadcast's Query behind it (100–640 ms for seconds
    each minute at ~6,000 items)."""
    now = time.time() if now is None else now
    deleted = 0
    paginator = dynamodb.get_paginator("scan")
    for page in paginator.paginate(
        TableName=table,
        FilterExpression="#ttl < :now",
        ExpressionAttributeNames={"#ttl": attribute},
        ExpressionAttributeValues={":now": {"N": str(int(now))}},
        ProjectionExpression="pk, sk",
        # Small pages: the embedded AWS answers one request at a time, and one scan of a large
        # table would hold every broadcast's Query behind it for a few hundred ms.
        PaginationConfig={"PageSize": SCAN_PAGE_ITEMS},
    ):
        keys = page.get("Items", [])
        _delete(dynamodb, table, keys)
        deleted += len(keys)
        if pause:
            time.sleep(pause)
    return deleted


async def sweep_forever(dynamodb: Any, tables: dict[str, str], interval: float) -> None:
    """Sweep ``tables`` (name → TTL attribute) every ``interval`` seconds."""
    while True:
        await asyncio.sleep(interval)
        for table, attribute in tables.items():
            try:
                deleted = await asyncio.to_thread(
                    sweep_expired, dynamodb, table, attribute, None, 0.05
                )
            except Exception:
                log_event("ttl sweep failed", logging.ERROR, exc_info=True, table=table)
                continue
            if deleted:
                log_event("ttl sweep", table=table, deleted=deleted)
