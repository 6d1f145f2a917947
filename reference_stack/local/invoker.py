"""Runs the handlers as Lambda would: in a worker pool, with a context, under a timeout."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reference_stack.definition import Stack
from reference_stack.local.events import LambdaContext
from reference_stack.local.logs import log_event

__all__ = ["InvocationFailed", "Invoker"]


class InvocationFailed(Exception):
    """The function raised, or ran past its timeout (Lambda reports both as a function error)."""


class Invoker:
    """Invokes a stack's functions by name; a slow handler occupies one worker, never the loop."""

    def __init__(self, stack: Stack, workers: int, prefix: str) -> None:
        self._functions = stack.functions
        self._handlers = {name: f.load_handler() for name, f in stack.functions.items()}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda")
        self._prefix = prefix

    async def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Run ``function`` on ``event`` and return its result.

        Raises:
            InvocationFailed: the handler raised or timed out.
        """
        spec = self._functions[function]
        context = LambdaContext(
            function_name=f"{self._prefix}-{function}",
            memory_limit_in_mb=spec.memory_mb,
            timeout_s=spec.timeout_s,
        )
        request = event.get("requestContext", {})
        fields: dict[str, Any] = {
            "function": function,
            "requestId": context.aws_request_id,
            "apiRequestId": request.get("requestId"),
            "connectionId": request.get("connectionId"),
            "routeKey": request.get("routeKey") or request.get("resourcePath"),
        }
        if "Records" in event:
            fields["records"] = len(event["Records"])
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        future = loop.run_in_executor(self._pool, self._handlers[function], event, context)
        try:
            result = await asyncio.wait_for(future, timeout=spec.timeout_s)
        except TimeoutError:
            fields["durationMs"] = round((time.perf_counter() - started) * 1000, 2)
            log_event("invoke", logging.ERROR, outcome="timeout", **fields)
            raise InvocationFailed(f"{function} timed out after {spec.timeout_s} s") from None
        except Exception as exc:
            fields["durationMs"] = round((time.perf_counter() - started) * 1000, 2)
            log_event("invoke", logging.ERROR, exc_info=True, outcome="error", **fields)
            raise InvocationFailed(f"{function} raised {type(exc).__name__}") from exc
        fields["durationMs"] = round((time.perf_counter() - started) * 1000, 2)
        if isinstance(result, dict):
            fields["statusCode"] = result.get("statusCode")
            if "batchItemFailures" in result:
                fields["batchItemFailures"] = len(result["batchItemFailures"])
        log_event("invoke", outcome="ok", **fields)
        return result

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
