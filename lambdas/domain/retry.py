"""Retrying DynamoDB transactions that AWS cancelled only because another one overlapped."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

__all__ = ["retry_transaction_conflicts"]

T = TypeVar("T")


def _conflicted(exc: ClientError) -> bool:
    reasons = exc.response.get("CancellationReasons") or []
    codes = {r.get("Code") for r in reasons}
    return "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes


def retry_transaction_conflicts(
    call: Callable[[], T], attempts: int = 5, base_delay: float = 0.02
) -> T:
    """Run ``call``; while it is cancelled for ``TransactionConflict`` only, back off and retry.

    A conflict means a concurrent transaction touched the same item, so nothing was decided yet:
    retrying lets the loser see the winner's write (and fail its condition) instead of reporting
    a spurious error. Other errors, and the last conflict, propagate.
    """
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code != "TransactionCanceledException" or not _conflicted(exc):
                raise
            if attempt == attempts - 1:
                raise
            time.sleep(base_delay * (2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")
