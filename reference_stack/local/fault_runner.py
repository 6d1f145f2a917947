"""Carries out a fault plan's process faults in a running stage, and answers the
``@connections`` server's questions about its own (see ``faults.py`` for the plan).

Worker processes are killed with SIGKILL — the stage's sandbox supervision replaces them
(``invoker.py``); DynamoDB Local and moto are killed — the stage's watchdog restarts them
(``stage.py``); the stream poller is restarted from its checkpoint. Nothing here reaches into a
handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

from reference_stack.local.faults import Fault, FaultPlan
from reference_stack.local.invoker import Invoker
from reference_stack.local.logs import log_event

__all__ = ["FaultRunner"]


class FaultRunner:
    """The plan, armed when the stage has started; ``parts`` restart or kill the named part
    (``poller``, ``dynamodb``, ``moto``)."""

    def __init__(
        self,
        plan: FaultPlan,
        invoker: Invoker,
        parts: dict[str, Callable[[], Awaitable[None]]],
    ) -> None:
        self.plan = plan
        self._invoker = invoker
        self._parts = parts
        self._armed_at: float | None = None
        self._posts: dict[int, int] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def elapsed(self) -> float | None:
        return None if self._armed_at is None else time.monotonic() - self._armed_at

    def arm(self) -> None:
        """Start the clock of the plan and its timed faults."""
        self._armed_at = time.monotonic()
        for fault in self.plan.faults:
            if fault.kind in ("kill", "restart"):
                self._tasks.append(asyncio.create_task(self._timed(fault)))
        log_event("fault plan armed", seed=self.plan.seed, faults=len(self.plan.faults))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        log_event("fault plan summary", faults=self.plan.summary())

    # -- @connections ----------------------------------------------------------------------------

    def on_post(self) -> Fault | None:
        """A function POSTs to ``@connections``: count it toward crashes; the fault it meets."""
        elapsed = self.elapsed()
        if elapsed is None:
            return None
        for fault in self.plan.of_kind("crash"):
            function = fault.spec["function"]
            if not fault.active(elapsed) or not self._invoker.in_flight(function):
                continue
            count = self._posts.get(fault.index, 0) + 1
            self._posts[fault.index] = count
            if count >= fault.spec["after_posts"] and fault.draw(elapsed):
                self._posts[fault.index] = 0
                self._kill(fault, busy_only=True)
        fault = self.plan.connections(elapsed)
        if fault is not None:
            log_event("fault injected", **fault.describe())
        return fault

    # -- timed faults ----------------------------------------------------------------------------

    async def _timed(self, fault: Fault) -> None:
        assert self._armed_at is not None
        await asyncio.sleep(max(0.0, self._armed_at + float(fault.spec["at"]) - time.monotonic()))
        while True:
            elapsed = self.elapsed() or 0.0
            if fault.draw(elapsed):
                try:
                    await self._apply(fault)
                except Exception:
                    log_event("fault failed", logging.ERROR, exc_info=True, **fault.describe())
            every = fault.spec.get("every")
            if not every or not fault.active(self.elapsed() or 0.0):
                return
            await asyncio.sleep(float(every))

    async def _apply(self, fault: Fault) -> None:
        if fault.kind == "kill":
            self._kill(fault, busy_only=False)
            return
        part = fault.spec["part"]
        log_event("fault injected", **fault.describe())
        await self._parts[part]()

    def _kill(self, fault: Fault, busy_only: bool) -> None:
        function = fault.spec["function"]
        pids = self._invoker.worker_pids(function, busy_only=busy_only)
        log_event("fault injected", **fault.describe(), pids=pids)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def connection_fault_effect(fault: Fault) -> dict[str, Any]:
    """What a ``connections`` fault does: its answer, delay and whether the frame is sent."""
    answer = fault.spec.get("answer")
    delay = float(fault.spec.get("delay") or 0.0)
    deliver = bool(fault.spec.get("deliver", answer is None))
    return {"answer": answer, "delay": delay, "deliver": deliver}
