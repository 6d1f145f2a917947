"""Handlers for the invoker's own tests, imported by dotted path like real ones."""

from __future__ import annotations

import threading
from typing import Any

release = threading.Event()
started = threading.Event()


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started.set()
    release.wait(30)
    return {"statusCode": 200, "body": "slow"}


def fast(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": context.function_name}


def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("boom with a secret stack")


def sleepy(event: dict[str, Any], context: Any) -> dict[str, Any]:
    threading.Event().wait(5)
    return {"statusCode": 200}
