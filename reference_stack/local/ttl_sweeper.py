"""Deletes items whose TTL has passed, which DynamoDB does on AWS (and DynamoDB Local does)
but moto never does: the stage runs it when moto serves DynamoDB."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from reference_stack.local.logs import log_event

__all__ = ["SCAN_PAGE_ITEMS", "sweep_expired", "sweep_forever"]

SCAN_PAGE_ITEMS = 200


def sweep_expired(dynamodb: Any, table: str, attribute: str, now: float | None = None) -> int:
    """Delete every item of ``table`` whose ``attribute`` (epoch seconds) is past; return count."""
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
        for key in page.get("Items", []):
            dynamodb.delete_item(TableName=table, Key=key)
            deleted += 1
    return deleted


async def sweep_forever(dynamodb: Any, tables: dict[str, str], interval: float) -> None:
    """Sweep ``tables`` (name → TTL attribute) every ``interval`` seconds."""
    while True:
        await asyncio.sleep(interval)
        for table, attribute in tables.items():
            try:
                deleted = await asyncio.to_thread(sweep_expired, dynamodb, table, attribute)
            except Exception:
                log_event("ttl sweep failed", logging.ERROR, exc_info=True, table=table)
                continue
            if deleted:
                log_event("ttl sweep", table=table, deleted=deleted)
