"""BatchGetItem of any number of keys: 100 at a time, unprocessed keys retried with backoff."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["BATCH_ATTEMPTS", "batch_get"]

BATCH_ATTEMPTS = 5  # calls per batch of 100 keys before giving up

Key = dict[str, dict[str, str]]


def batch_get(
    dynamodb: Any,
    table: str,
    item_keys: list[Key],
    projection: str,
    *,
    consistent: bool = True,
    names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The items of ``table`` under ``item_keys`` that exist (in no particular order).

    Raises:
        RuntimeError: some keys were still unprocessed after the last attempt.
    """
    found: list[dict[str, Any]] = []
    for start in range(0, len(item_keys), 100):
        request: dict[str, Any] = {
            "Keys": item_keys[start : start + 100],
            "ProjectionExpression": projection,
            "ConsistentRead": consistent,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        pending: dict[str, Any] = {table: request}
        for attempt in range(BATCH_ATTEMPTS):
            answer = dynamodb.batch_get_item(RequestItems=pending)
            found += answer.get("Responses", {}).get(table, [])
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
            if attempt + 1 < BATCH_ATTEMPTS:
                time.sleep(0.05 * 2**attempt)
        else:
            raise RuntimeError(f"could not read {table}: keys still unprocessed")
    return found
