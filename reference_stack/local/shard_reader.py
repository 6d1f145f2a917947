"""Reads a DynamoDB stream's records in order, as Lambda's event source mapping does: a shard,
then its children once it closes, recovering from expired and trimmed iterators.

Both embedded backends need it. moto keeps one shard for ever. DynamoDB Local, like AWS, hands
out iterators that expire, and its sequence numbers are global across tables: a TRIM_HORIZON
iterator taken while a shard is still empty points at a number another table's write may take,
and reading it once this shard has records answers ``TrimmedDataAccessException``. On AWS, shards
close every few hours and continue in child shards.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from reference_stack.local.logs import log_event

__all__ = ["Checkpoint", "ShardReader"]

_LOST_POSITION = ("TrimmedDataAccessException", "ExpiredIteratorException")


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True)
class Checkpoint:
    """Where a reader stands: a new reader restored from it reads on right after ``position``
    (Lambda's event source mapping keeps one per shard, so a restarted poller resumes there)."""

    shard_id: str | None
    position: str | None
    queue: tuple[str, ...]
    done: frozenset[str]


class ShardReader:
    """One reader of one stream: ``read()`` returns the next page of records (maybe empty).

    Records come in sequence order within a shard; a shard's records all come before its
    children's. ``position`` is the last record returned, so a lost iterator resumes right after
    it and nothing is read twice.
    """

    def __init__(self, streams_client: Any, stream_arn: str, batch_size: int) -> None:
        self._streams = streams_client
        self._arn = stream_arn
        self._batch_size = batch_size
        self._queue: list[str] = []  # shards to read after the current one
        self._done: set[str] = set()
        self.shard_id: str | None = None
        self.position: str | None = None  # sequence number of the last record returned
        self._iterator: str | None = None

    def checkpoint(self) -> Checkpoint:
        """Where this reader stands now (after the records it returned)."""
        return Checkpoint(self.shard_id, self.position, tuple(self._queue), frozenset(self._done))

    def restore(self, checkpoint: Checkpoint) -> None:
        """Continue from ``checkpoint``: the next ``read`` returns what followed it."""
        self.shard_id, self.position = checkpoint.shard_id, checkpoint.position
        self._queue, self._done = list(checkpoint.queue), set(checkpoint.done)
        self._iterator = None

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        return await asyncio.to_thread(getattr(self._streams, method), **kwargs)

    async def _shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StreamArn": self._arn}
        while True:
            description = (await self._call("describe_stream", **kwargs))["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            kwargs["ExclusiveStartShardId"] = last

    async def _next_shard(self) -> bool:
        """Move to the next shard to read: the oldest root at first, then children of the
        shards read. False when there is none yet (a closed shard's child may appear later)."""
        if not self._queue:
            shards = await self._shards()
            known = {shard["ShardId"] for shard in shards}
            for shard in shards:
                shard_id, parent = shard["ShardId"], shard.get("ParentShardId")
                if shard_id in self._done or shard_id in self._queue:
                    continue
                if parent in self._done or (self.shard_id is None and parent not in known):
                    self._queue.append(shard_id)
        if not self._queue:
            return False
        self.shard_id, self.position = self._queue.pop(0), None
        self._iterator = None
        return True

    async def _fresh_iterator(self) -> str:
        """An iterator right after ``position``, or at the shard's oldest record."""
        assert self.shard_id is not None
        kwargs: dict[str, Any] = {"StreamArn": self._arn, "ShardId": self.shard_id}
        if self.position is not None:
            try:
                answer = await self._call(
                    "get_shard_iterator",
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=self.position,
                    **kwargs,
                )
                return answer["ShardIterator"]
            except ClientError as exc:
                if _error_code(exc) != "TrimmedDataAccessException":
                    raise
                # What followed our position was trimmed (older than 24 h) before we read it.
                log_event(
                    "stream records trimmed before they were read",
                    logging.ERROR,
                    shardId=self.shard_id,
                    after=self.position,
                )
        answer = await self._call("get_shard_iterator", ShardIteratorType="TRIM_HORIZON", **kwargs)
        return answer["ShardIterator"]

    async def read(self, _retry: bool = True) -> list[dict[str, Any]]:
        """The next records of the stream (an empty list when there are none right now)."""
        if self.shard_id is None and not await self._next_shard():
            return []
        if self._iterator is None:
            self._iterator = await self._fresh_iterator()
        try:
            page = await self._call(
                "get_records", ShardIterator=self._iterator, Limit=self._batch_size
            )
        except ClientError as exc:
            if _error_code(exc) not in _LOST_POSITION:
                raise
            self._iterator = None  # a fresh one, right after ``position``
            return await self.read(_retry=False) if _retry else []
        records = page.get("Records", [])
        if records:
            self.position = records[-1]["dynamodb"]["SequenceNumber"]
        self._iterator = page.get("NextShardIterator")
        if self._iterator is None and not records:  # closed, and read to its end
            assert self.shard_id is not None
            self._done.add(self.shard_id)
            if not await self._next_shard():
                self.shard_id = None
        return records
