"""Runs the handlers as Lambda would: in a worker pool, with a context, under a timeout."""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import multiprocessing
import signal
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from reference_stack.definition import Stack
from reference_stack.local.events import LambdaContext
from reference_stack.local.logs import log_event

__all__ = ["InvocationFailed", "Invoker"]


class InvocationFailed(Exception):
    """The function raised, or ran past its timeout (Lambda reports both as a function error)."""


@functools.cache
def _handler(path: str) -> Callable[[dict[str, Any], Any], Any]:
    module, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def _worker_started() -> None:
    """Ctrl-C reaches the whole process group: the stage, not its workers, handles it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(path: str, event: dict[str, Any], context: Any) -> Any:
    """Run a handler by its dotted path (in a worker process, it is imported once there)."""
    return _handler(path)(event, context)


class Invoker:
    """Invokes a stack's functions by name; a slow handler occupies one worker, never the loop.

    Handlers run in a pool of threads, except ``process_functions``, which run in worker
    processes of their own — a pool per function, of ``processes[function]`` (default 1)
    processes, on other cores, as each Lambda function has its own. Handler code is the same
    either way.
    """

    def __init__(
        self,
        stack: Stack,
        workers: int,
        prefix: str,
        process_functions: Collection[str] = (),
        processes: Mapping[str, int] | None = None,
    ) -> None:
        self._functions = stack.functions
        for function in stack.functions.values():
            _handler(function.handler)  # import every handler now: fail at start, not later
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda")
        self._process_functions = set(process_functions)
        self._processes = dict(processes or {})
        self._process_pools: dict[str, ProcessPoolExecutor] = {}
        self._prefix = prefix

    def _executor(self, function: str) -> Executor:
        if function not in self._process_functions:
            return self._pool
        if function not in self._process_pools:  # created at first use: the environment is set
            self._process_pools[function] = ProcessPoolExecutor(
                max_workers=self._processes.get(function, 1),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_started,
            )
        return self._process_pools[function]

    async def invoke(self, function: str, event: Any) -> Any:
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
        request = event.get("requestContext", {}) if isinstance(event, dict) else {}
        fields: dict[str, Any] = {
            "function": function,
            "requestId": context.aws_request_id,
            "apiRequestId": request.get("requestId"),
            "connectionId": request.get("connectionId"),
            "routeKey": request.get("routeKey") or request.get("resourcePath"),
        }
        if isinstance(event, dict) and "Records" in event:
            fields["records"] = len(event["Records"])
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        future = loop.run_in_executor(self._executor(function), _run, spec.handler, event, context)
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
        for pool in self._process_pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
