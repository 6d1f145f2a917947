"""A page of a DynamoDB Query with one item more than asked: the extra item says whether a
next page exists, without a call that would find an empty last page."""

from __future__ import annotations

from typing import Any

__all__ = ["query_one_more"]


def query_one_more(dynamodb: Any, query: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Up to ``limit + 1`` items of ``query`` (its own ``ExclusiveStartKey`` respected), read
    over as many DynamoDB pages as it takes; more than ``limit`` items means there is more."""
    query = dict(query)
    items: list[dict[str, Any]] = []
    while len(items) <= limit:
        query["Limit"] = limit + 1 - len(items)
        page = dynamodb.query(**query)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items
