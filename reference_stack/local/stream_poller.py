"""Tails a DynamoDB stream into a function, as Lambda's event source mapping does.

Records are read in order, shard after shard (``shard_reader.py``); only those the mapping's
filter patterns accept are passed on (a batch with none is not invoked). As with the mapping's
``ParallelizationFactor``, the records are spread over ``parallelization_factor`` *lanes* by a
hash of their partition key: each lane invokes the function one batch at a time, in order, so
one key's records (a room's messages) keep their order, while a slow or failing batch holds up
only its own lane — the other keys' records go on. ``parallelization_factor=1`` is one lane:
one batch per shard at a time.

The function answers with ``batchItemFailures`` (``ReportBatchItemFailures``): the batch is
retried from the first failed record; a function error retries the whole batch. After
``maximum_retry_attempts`` the remaining records go to the on-failure destination — here an
ERROR log line naming every record — and the lane moves on.

The poller keeps a checkpoint — right after the last record before which every record is
finished — as Lambda does per shard. It is supervised: an unexpected error is logged and the
poller goes on from its checkpoint, and so does a restarted one (``restart``); the records it
was invoking then, and any read after them, are read and invoked again (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any

from reference_stack.local.event_filters import accepts, check_pattern
from reference_stack.local.events import stream_event
from reference_stack.local.invoker import InvocationFailed, Invoker
from reference_stack.local.logs import log_event
from reference_stack.local.shard_reader import Checkpoint, ShardReader

__all__ = ["StreamPoller", "lane_of"]

# Records read but not yet finished, per lane of the factor, before the reader waits: a lane
# that falls behind (a flooded room) does not stop the others until then.
READ_AHEAD_BATCHES = 10
# While reads keep failing (DynamoDB restarting), one log line this often, not one per poll.
READ_FAILURE_LOG_INTERVAL = 10.0


def lane_of(record: dict[str, Any], partition_key: str, lanes: int) -> int:
    """The lane of ``record``: a stable hash of its partition key's value, as Lambda spreads a
    shard's records over the concurrent batches of its ``ParallelizationFactor``."""
    if lanes == 1:
        return 0
    value = record["dynamodb"].get("Keys", {}).get(partition_key, {})
    text = next(iter(value.values()), "") if isinstance(value, dict) else ""
    return zlib.crc32(str(text).encode("utf-8")) % lanes


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


@dataclass(eq=False)
class _Page:
    """Records read together: finished once every record passed on from it is."""

    checkpoint: Checkpoint
    pending: int


class _Progress:
    """Pages in the order read; the checkpoint moves past a page once it and every page before
    it are finished, whichever lane finishes last."""

    def __init__(self, checkpoint: Checkpoint | None) -> None:
        self._pages: deque[_Page] = deque()
        self.checkpoint = checkpoint
        self.in_flight = 0
        self._changed = asyncio.Event()

    def read(self, checkpoint: Checkpoint, passed: int) -> _Page:
        if not passed and self._pages and self._pages[-1].pending == 0:
            # Nothing between the two: one page (a stalled lane does not pile up empty polls).
            self._pages[-1].checkpoint = checkpoint
            return self._pages[-1]
        page = _Page(checkpoint, passed)
        self._pages.append(page)
        self.in_flight += passed
        self._advance()
        return page

    def finished(self, pages: list[_Page]) -> None:
        for page in pages:
            page.pending -= 1
        self.in_flight -= len(pages)
        self._advance()

    def _advance(self) -> None:
        while self._pages and self._pages[0].pending == 0:
            self.checkpoint = self._pages.popleft().checkpoint
        self._changed.set()

    async def wait_below(self, limit: int) -> None:
        while self.in_flight >= limit:
            self._changed.clear()
            await self._changed.wait()


class StreamPoller:
    """Reads one stream and invokes ``function`` with each batch, ``parallelization_factor``
    batches at a time (one per lane)."""

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
        parallelization_factor: int = 1,
        partition_key: str = "pk",
    ) -> None:
        if not 1 <= parallelization_factor <= 10:
            raise ValueError("parallelization_factor must be 1 to 10, as Lambda's")
        self._streams = streams_client
        self._arn = stream_arn
        self._invoker = invoker
        self._function = function
        self._batch_size = batch_size
        self._max_retries = maximum_retry_attempts
        self._poll_interval = poll_interval
        self._retry_delay = retry_delay
        self._lanes = parallelization_factor
        self._partition_key = partition_key
        self._nudged = asyncio.Event()
        self.dead_letters: list[dict[str, Any]] = []
        self.checkpoint: Checkpoint | None = None
        self._task: asyncio.Task[None] | None = None
        self.restarts = 0
        self._failing_since: float | None = None  # reads failing since (monotonic)
        self._failures = 0
        self._logged_at = 0.0
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
        """Poll for ever, from the checkpoint if there is one: a reader and one task per lane,
        which fail together (an error in one stops all, and ``run`` raises it)."""
        reader = ShardReader(self._streams, self._arn, self._batch_size)
        if self.checkpoint is not None:
            reader.restore(self.checkpoint)
        progress = _Progress(self.checkpoint)
        lanes: list[asyncio.Queue[tuple[dict[str, Any], _Page]]] = [
            asyncio.Queue() for _ in range(self._lanes)
        ]
        try:
            async with asyncio.TaskGroup() as group:
                for number, lane in enumerate(lanes):
                    group.create_task(self._lane(lane, progress), name=f"stream-lane-{number}")
                await self._read(reader, lanes, progress)
        except BaseExceptionGroup as failed:  # one error, as a poller without lanes raised it
            raise failed.exceptions[0] from None

    async def _read(
        self,
        reader: ShardReader,
        lanes: list[asyncio.Queue[tuple[dict[str, Any], _Page]]],
        progress: _Progress,
    ) -> None:
        limit = READ_AHEAD_BATCHES * self._batch_size * self._lanes
        while True:
            self._nudged.clear()
            await progress.wait_below(limit)
            try:
                records = await reader.read()
            except Exception:
                self._read_failed()
                await asyncio.sleep(self._poll_interval)
                continue
            if self._failing_since is not None:
                log_event("stream read recovered", failures=self._failures, function=self._function)
                self._failing_since = None
            passed = [r for r in records if accepts(self._filters, r)]
            page = progress.read(reader.checkpoint(), len(passed))
            for record in passed:
                lanes[lane_of(record, self._partition_key, self._lanes)].put_nowait((record, page))
            self.checkpoint = progress.checkpoint
            if records:
                continue  # there may be more right behind
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), timeout=self._poll_interval)

    def _read_failed(self) -> None:
        """Log a failed read: the first with its traceback, then one line every
        ``READ_FAILURE_LOG_INTERVAL`` seconds while reads go on failing (DynamoDB restarting)."""
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since, self._failures, self._logged_at = now, 0, now
            log_event("stream read failed", logging.ERROR, exc_info=True, function=self._function)
        self._failures += 1
        if now - self._logged_at >= READ_FAILURE_LOG_INTERVAL:
            self._logged_at = now
            log_event(
                "stream reads still failing",
                logging.ERROR,
                failures=self._failures,
                seconds=round(now - self._failing_since, 1),
                function=self._function,
            )

    async def _lane(
        self, lane: asyncio.Queue[tuple[dict[str, Any], _Page]], progress: _Progress
    ) -> None:
        """Invoke the function with this lane's records, a batch at a time, in order."""
        while True:
            taken = [await lane.get()]
            while len(taken) < self._batch_size and not lane.empty():
                taken.append(lane.get_nowait())
            await self._deliver([record for record, _ in taken])
            progress.finished([page for _, page in taken])
            self.checkpoint = progress.checkpoint

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
