"""Tails a DynamoDB stream into a function, as Lambda's event source mapping does.

One batch at a time, in order, shard after shard (``shard_reader.py``); only the records the
mapping's filter patterns accept are passed on (a batch with none is not invoked). The function
answers with ``batchItemFailures`` (``ReportBatchItemFailures``): the batch is retried from the
first failed record; a function error retries the whole batch. After ``maximum_retry_attempts``
the remaining records go to the on-failure destination — here an ERROR log line naming every
record — and the shard moves on.

The poller keeps a checkpoint — right after the last batch it finished — as Lambda does. It is
supervised: an unexpected error is logged and the poller goes on from its checkpoint, and so
does a restarted one (``restart``); a batch it was invoking then is read and invoked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from reference_stack.local.event_filters import accepts, check_pattern
from reference_stack.local.events import stream_event
from reference_stack.local.invoker import InvocationFailed, Invoker
from reference_stack.local.logs import log_event
from reference_stack.local.shard_reader import Checkpoint, ShardReader

__all__ = ["StreamPoller"]


def _retry_from(records: list[dict[str, Any]], result: Any) -> list[dict[str, Any]]:
    """The records to retry after the function answered ``result``."""
    if not isinstance(result, dict) or not result.get("batchItemFailures"):
        return []
    failed = set()
    for failure in result["batchItemFailures"]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier:
            return records  # Lambda treats a malformed answer as the whole batch failing
        failed.add(identifier)
    for index, record in enumerate(records):
        if record["dynamodb"]["SequenceNumber"] in failed:
            return records[index:]
    return records


class StreamPoller:
    """Reads one stream and invokes ``function`` with each batch."""

    def __init__(
        self,
        streams_client: Any,
        stream_arn: str,
        invoker: Invoker,
        function: str,
        *,
        batch_size: int,
        maximum_retry_attempts: int,
        poll_interval: float,
        retry_delay: float = 0.1,
        filters: list[dict[str, Any]] | None = None,
    ) -> None:
        self._streams = streams_client
        self._arn = stream_arn
        self._invoker = invoker
        self._function = function
        self._batch_size = batch_size
        self._max_retries = maximum_retry_attempts
        self._poll_interval = poll_interval
        self._retry_delay = retry_delay
        self._nudged = asyncio.Event()
        self.dead_letters: list[dict[str, Any]] = []
        self.checkpoint: Checkpoint | None = None
        self._task: asyncio.Task[None] | None = None
        self.restarts = 0
        self._filters = list(filters or [])
        for pattern in self._filters:
            check_pattern(pattern)

    def nudge(self) -> None:
        """Poll now rather than at the next interval (a write has probably just happened)."""
        self._nudged.set()

    def start(self) -> None:
        """Start polling in a task of its own (supervised: see the module's docstring)."""
        self._task = asyncio.create_task(self._supervised(), name="stream-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def restart(self) -> None:
        """Stop the poller wherever it is and start a new one from the checkpoint."""
        await self.stop()
        self.restarts += 1
        log_event("stream poller restarted", checkpoint=str(self.checkpoint))
        self.start()

    async def _supervised(self) -> None:
        while True:
            try:
                await self.run()
            except Exception:
                self.restarts += 1
                log_event(
                    "stream poller failed: going on from its checkpoint",
                    logging.ERROR,
                    exc_info=True,
                )
                await asyncio.sleep(self._poll_interval)

    async def run(self) -> None:
        """Poll for ever, from the checkpoint if there is one."""
        reader = ShardReader(self._streams, self._arn, self._batch_size)
        if self.checkpoint is not None:
            reader.restore(self.checkpoint)
        while True:
            self._nudged.clear()
            try:
                records = await reader.read()
            except Exception:
                log_event("stream read failed", logging.ERROR, exc_info=True)
                await asyncio.sleep(self._poll_interval)
                continue
            if records:
                passed = [r for r in records if accepts(self._filters, r)]
                if passed:
                    await self._deliver(passed)
                self.checkpoint = reader.checkpoint()
                continue  # there may be more right behind
            self.checkpoint = reader.checkpoint()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), timeout=self._poll_interval)

    async def _deliver(self, records: list[dict[str, Any]]) -> None:
        pending, attempt = records, 0
        while pending:
            try:
                result = await self._invoker.invoke(
                    self._function, stream_event(pending, self._arn)
                )
                pending = _retry_from(pending, result)
            except InvocationFailed:
                pass  # the whole batch is retried
            if not pending:
                return
            attempt += 1
            if attempt > self._max_retries:
                self._dead_letter(pending)
                return
            await asyncio.sleep(min(5.0, self._retry_delay * 2 ** (attempt - 1)))

    def _dead_letter(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            image = record["dynamodb"].get("NewImage", {})
            entry = {
                "sequenceNumber": record["dynamodb"]["SequenceNumber"],
                "eventName": record.get("eventName"),
                "messageId": image.get("messageId", {}).get("S"),
                "roomId": image.get("roomId", {}).get("S"),
            }
            self.dead_letters.append(entry)
            log_event(
                "stream record sent to the on-failure destination",
                logging.ERROR,
                function=self._function,
                attempts=self._max_retries + 1,
                **entry,
            )
