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


calls: list[dict[str, Any]] = []


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    calls.append(event)
    return {"echo": event, "function": context.function_name}


def fails_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
    calls.append(event)
    if len(calls) == 1:
        raise RuntimeError("first attempt fails")
    return {"ok": True}


def dies(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Kills its own process when the event asks (a sandbox dying mid-invocation)."""
    import os
    import signal

    if event.get("die"):
        os.kill(os.getpid(), signal.SIGKILL)
    return {"pid": os.getpid()}


def hangs(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Never returns within any test's timeout unless the event says not to wait."""
    import os
    import time

    if event.get("wait"):
        time.sleep(60)
    return {"pid": os.getpid()}


def environment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    import os

    return {"value": os.environ.get(event["name"]), "pid": os.getpid()}
