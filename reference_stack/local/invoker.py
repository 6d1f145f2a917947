"""Runs the handlers as Lambda would: each function apart, with a context, under a timeout.

Each function has its own workers, as each Lambda function scales apart: a storm of logins
never takes the workers a ``sendMessage`` needs. A function runs either, for
``process_functions`` (the stage's default: all), in worker processes of its own — up to
``processes[function]`` (default ``default_processes``) *sandboxes*, each one process, started
on demand, on any core — or in threads of the stage's process (its ``concurrency``, default
``workers``).

A sandbox whose process dies (killed, out of memory) or whose invocation runs past the
function's timeout is ended and replaced, as Lambda ends a sandbox; the invocation fails with
``FunctionCrashed`` (an ``InvocationFailed``), and its caller retries it as Lambda would — the
stream poller the batch, the Invoke API an asynchronous event, API Gateway not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from reference_stack.definition import Stack
from reference_stack.local.events import LambdaContext
from reference_stack.local.logs import log_event
from reference_stack.local.process_names import name_process

__all__ = ["FunctionCrashed", "InvocationFailed", "Invoker"]


class InvocationFailed(Exception):
    """The function raised, or ran past its timeout (Lambda reports both as a function error)."""


class FunctionCrashed(InvocationFailed):
    """The sandbox running the invocation died or was ended at its timeout: it ran for up to
    ``ran_for`` seconds and may have done part of its work."""

    def __init__(self, message: str, ran_for: float) -> None:
        super().__init__(message)
        self.ran_for = ran_for


@functools.cache
def _handler(path: str) -> Callable[[dict[str, Any], Any], Any]:
    module, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


class _TimedOut(Exception):
    """The invocation ran past its function's timeout."""


async def _within(awaitable: Any, timeout: float) -> Any:
    """``await awaitable`` for at most ``timeout`` seconds; ``_TimedOut`` past it (a handler's
    own ``TimeoutError`` propagates as it is)."""
    try:
        async with asyncio.timeout(timeout) as scope:
            return await awaitable
    except TimeoutError:
        if scope.expired():
            raise _TimedOut() from None
        raise


def _worker_started(function: str, environment: dict[str, str]) -> None:
    """Ctrl-C reaches the whole process group: the stage, not its workers, handles it. A fork
    server's children inherit its environment, not the stage's: take the stage's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(environment)
    name_process(function)


def _run(path: str, event: dict[str, Any], context: Any) -> Any:
    """Run a handler by its dotted path (in a worker process, it is imported once there)."""
    return _handler(path)(event, context)


# What a sandbox's first invocation would import, loaded once by the fork server: a new
# sandbox is a fork of it, so a cold start costs tens of milliseconds, not the seconds of a
# fresh interpreter importing boto3 (which, on a busy machine, outlast a broadcast's timeout).
PRELOAD = (
    "boto3",
    "botocore.session",
    "aws_lambda_powertools",
    "lambdas.runtime",
    "lambdas.domain.connections",
    "lambdas.domain.dispatch",
    "lambdas.domain.fanout",
    "lambdas.domain.shard_claims",
    "lambdas.domain.sharded_fanout",
    "lambdas.domain.signed_delivery",
)


def _sandbox_context(handlers: Collection[str]) -> Any:
    """Where sandboxes come from: forks of a server holding ``PRELOAD`` and the handlers'
    modules (``spawn`` where fork servers are not available)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    modules = [handler.rpartition(".")[0] for handler in handlers]
    context.set_forkserver_preload([*PRELOAD, *modules])
    return context


@dataclass(eq=False)
class _Sandbox:
    """One worker process of a process function (a Lambda execution environment)."""

    function: str
    context: Any
    busy: bool = False
    executor: ProcessPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.executor = ProcessPoolExecutor(
            max_workers=1,
            mp_context=self.context,
            initializer=_worker_started,
            initargs=(self.function, dict(os.environ)),
        )

    def pids(self) -> list[int]:
        processes = self.executor._processes or {}  # the executor's own record of its worker
        return [pid for pid, process in processes.items() if process.is_alive()]

    def dead(self) -> bool:
        """Its process died while it was idle (killed): it must not take an invocation."""
        processes = self.executor._processes or {}
        broken = bool(getattr(self.executor, "_broken", False))
        return broken or (bool(processes) and not any(p.is_alive() for p in processes.values()))

    def end(self) -> None:
        """Kill the process (if any) and let the executor go."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.executor.shutdown(wait=False, cancel_futures=True)


class _ProcessFunction:
    """The sandboxes of one process function; at most one invocation runs in each.

    Like Lambda's, sandboxes start on demand: the most recently used free one runs the next
    invocation (a sandbox's process starts at its first invocation — a cold start), so a
    function only ever has as many processes as it had invocations at once, up to ``size``.
    """

    def __init__(self, function: str, size: int, context: Any) -> None:
        self.function = function
        self.size = size
        self._context = context
        self.sandboxes: list[_Sandbox] = []
        self._free: asyncio.LifoQueue[_Sandbox] | None = None

    async def take(self) -> _Sandbox:
        if self._free is None:  # created here: the environment is set, the loop running
            self._free = asyncio.LifoQueue()
            for _ in range(self.size):
                sandbox = _Sandbox(self.function, self._context)
                self.sandboxes.append(sandbox)
                self._free.put_nowait(sandbox)
        sandbox = await self._free.get()
        if sandbox.dead():  # killed while idle: Lambda would never hand it an invocation
            sandbox.end()
            self.sandboxes.remove(sandbox)
            sandbox = _Sandbox(self.function, self._context)
            self.sandboxes.append(sandbox)
        sandbox.busy = True
        return sandbox

    def give_back(self, sandbox: _Sandbox, healthy: bool) -> None:
        assert self._free is not None
        sandbox.busy = False
        if not healthy:
            sandbox.end()
            self.sandboxes.remove(sandbox)
            sandbox = _Sandbox(self.function, self._context)
            self.sandboxes.append(sandbox)
        self._free.put_nowait(sandbox)

    def shutdown(self) -> None:
        for sandbox in self.sandboxes:
            sandbox.executor.shutdown(wait=True, cancel_futures=True)


class _ThreadFunction:
    """The threads of one function that runs in the stage's process."""

    def __init__(self, name: str, size: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"lambda-{name}")
        self._size = size
        self._slots: asyncio.Semaphore | None = None

    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        return self._slots


class Invoker:
    """Invokes a stack's functions by name; a slow handler occupies one worker, never the loop.

    ``concurrency`` caps a thread function's invocations at once (default ``workers``); more
    wait their turn, and a function's timeout counts from the start of its invocation, not
    from the wait.
    """

    def __init__(
        self,
        stack: Stack,
        workers: int,
        prefix: str,
        process_functions: Collection[str] = (),
        processes: Mapping[str, int] | None = None,
        concurrency: Mapping[str, int] | None = None,
        default_processes: int = 1,
    ) -> None:
        self._functions = stack.functions
        for function in stack.functions.values():
            _handler(function.handler)  # import every handler now: fail at start, not later
        self._workers = workers
        self._concurrency = dict(concurrency or {})
        self._process_functions = set(process_functions)
        self._processes = dict(processes or {})
        self._default_processes = default_processes
        self._threads: dict[str, _ThreadFunction] = {}
        self._sandboxes: dict[str, _ProcessFunction] = {}
        self._prefix = prefix
        self._sandbox_context = _sandbox_context(
            [spec.handler for name, spec in stack.functions.items() if name in process_functions]
        )
        self._in_flight: dict[str, int] = {}

    # -- what the stage's fault plan reaches -----------------------------------------------------

    def in_flight(self, function: str) -> int:
        """How many invocations of ``function`` are running now."""
        return self._in_flight.get(function, 0)

    def worker_pids(self, function: str, busy_only: bool = False) -> list[int]:
        """The processes of a process function's sandboxes (those running an invocation)."""
        pool = self._sandboxes.get(function)
        if pool is None:
            return []
        return [
            pid
            for sandbox in pool.sandboxes
            if sandbox.busy or not busy_only
            for pid in sandbox.pids()
        ]

    # -- invoking --------------------------------------------------------------------------------

    async def invoke(self, function: str, event: Any) -> Any:
        """Run ``function`` on ``event`` and return its result.

        Raises:
            InvocationFailed: the handler raised or timed out (``FunctionCrashed``: its sandbox
                died or was ended).
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
        if function in self._process_functions:
            run = self._in_sandbox(function, spec.handler, event, context, spec.timeout_s)
        else:
            run = self._in_thread(function, spec.handler, event, context, spec.timeout_s)
        started = time.perf_counter()
        self._in_flight[function] = self._in_flight.get(function, 0) + 1
        try:
            result = await run
        except FunctionCrashed as crash:
            fields["durationMs"] = round((time.perf_counter() - started) * 1000, 2)
            log_event("invoke", logging.ERROR, outcome="crashed", error=str(crash), **fields)
            raise
        except _TimedOut:
            fields["durationMs"] = round((time.perf_counter() - started) * 1000, 2)
            log_event("invoke", logging.ERROR, outcome="timeout", **fields)
            raise InvocationFailed(f"{function} timed out after {spec.timeout_s} s") from None
        except Exception as exc:
            fields["durationMs"] = round((time.perf_counter() - started) * 1000, 2)
            log_event("invoke", logging.ERROR, exc_info=True, outcome="error", **fields)
            raise InvocationFailed(f"{function} raised {type(exc).__name__}") from exc
        finally:
            self._in_flight[function] -= 1
        fields["durationMs"] = round((time.perf_counter() - started) * 1000, 2)
        if isinstance(result, dict):
            fields["statusCode"] = result.get("statusCode")
            if "batchItemFailures" in result:
                fields["batchItemFailures"] = len(result["batchItemFailures"])
        log_event("invoke", outcome="ok", **fields)
        return result

    async def _in_thread(
        self, function: str, handler: str, event: Any, context: Any, timeout: float
    ) -> Any:
        pool = self._threads.get(function)
        if pool is None:
            size = self._concurrency.get(function, self._workers)
            pool = self._threads[function] = _ThreadFunction(function, size)
        loop = asyncio.get_running_loop()
        async with pool.slots():
            future = loop.run_in_executor(pool.executor, _run, handler, event, context)
            return await _within(future, timeout)

    async def _in_sandbox(
        self, function: str, handler: str, event: Any, context: Any, timeout: float
    ) -> Any:
        pool = self._sandboxes.get(function)
        if pool is None:
            pool = self._sandboxes[function] = _ProcessFunction(
                function,
                self._processes.get(function, self._default_processes),
                self._sandbox_context,
            )
        sandbox = await pool.take()
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        healthy = False
        try:
            future = loop.run_in_executor(sandbox.executor, _run, handler, event, context)
            result = await _within(future, timeout)
            healthy = True
            return result
        except _TimedOut:  # Lambda ends the sandbox of an invocation past its timeout
            raise FunctionCrashed(
                f"{function} timed out after {timeout} s: its sandbox was ended",
                time.monotonic() - started,
            ) from None
        except BrokenProcessPool:
            raise FunctionCrashed(
                f"{function}'s sandbox process died", time.monotonic() - started
            ) from None
        except Exception:
            healthy = True  # the handler raised: the sandbox itself is fine
            raise
        finally:
            pool.give_back(sandbox, healthy)

    def warm(self) -> None:
        """Start the sandboxes' fork server (it imports the handlers once), if there is one,
        so that the first invocation does not wait for it."""
        if self._sandbox_context.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()

    def shutdown(self) -> None:
        for threads in self._threads.values():
            threads.executor.shutdown(wait=False, cancel_futures=True)
        for pool in self._sandboxes.values():
            pool.shutdown()
