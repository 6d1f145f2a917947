"""Structured JSON logs (Powertools Logger) carrying the request and connection ids.

Keys are kept per thread, so the local stage, which runs many invocations at once in one
process, never mixes one invocation's ids into another's lines.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

__all__ = ["add_keys", "logger", "with_context"]

logger = Logger(service="chatstack")
F = TypeVar("F", bound=Callable[..., Any])
_cold_start = True


def add_keys(**keys: object) -> None:
    """Add keys to every following log line of this invocation."""
    logger.thread_safe_append_keys(**keys)


def with_context(handler: F) -> F:
    """Start each invocation's log keys afresh with the function name and request id."""

    @functools.wraps(handler)
    def wrapped(event: dict[str, Any], context: Any) -> Any:
        global _cold_start
        logger.thread_safe_clear_keys()
        add_keys(
            function_name=getattr(context, "function_name", None),
            function_request_id=getattr(context, "aws_request_id", None),
            cold_start=_cold_start,
        )
        _cold_start = False
        return handler(event, context)

    return wrapped  # type: ignore[return-value]
