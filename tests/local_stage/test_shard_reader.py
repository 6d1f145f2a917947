"""The shard reader follows a stream as Lambda does: shard lineage, lost iterators, trimming."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from reference_stack.local.shard_reader import ShardReader


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "GetRecords")


def _record(sequence: int) -> dict[str, Any]:
    return {"dynamodb": {"SequenceNumber": f"{sequence:021d}"}}


class ScriptedStreams:
    """A streams client over fixed shards: ``shards`` maps id → (parent, sequence numbers,
    closed). Iterators are ``shard:index``; ``fail`` lists errors for the next GetRecords."""

    def __init__(self, shards: dict[str, tuple[str | None, list[int], bool]]) -> None:
        self.shards = shards
        self.fail: list[str] = []
        self.iterator_requests: list[tuple[str, str, str | None]] = []

    def describe_stream(self, StreamArn: str, **kwargs: Any) -> dict[str, Any]:
        shards = [
            {"ShardId": shard_id, **({"ParentShardId": parent} if parent else {})}
            for shard_id, (parent, _, _) in self.shards.items()
        ]
        return {"StreamDescription": {"Shards": shards}}

    def get_shard_iterator(
        self, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str = ""
    ) -> dict[str, Any]:
        self.iterator_requests.append((ShardId, ShardIteratorType, SequenceNumber or None))
        sequences = self.shards[ShardId][1]
        if ShardIteratorType == "TRIM_HORIZON":
            index = 0
        else:
            index = next(
                (i for i, s in enumerate(sequences) if s > int(SequenceNumber)), len(sequences)
            )
        return {"ShardIterator": f"{ShardId}:{index}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        if self.fail:
            raise _error(self.fail.pop(0))
        shard_id, index = ShardIterator.rsplit(":", 1)
        _, sequences, closed = self.shards[shard_id]
        start = int(index)
        page = sequences[start : start + Limit]
        end = start + len(page)
        answer: dict[str, Any] = {"Records": [_record(s) for s in page]}
        if not (closed and end >= len(sequences)):
            answer["NextShardIterator"] = f"{shard_id}:{end}"
        return answer


async def _read_all(reader: ShardReader, reads: int = 10) -> list[int]:
    seen: list[int] = []
    for _ in range(reads):
        seen += [int(r["dynamodb"]["SequenceNumber"]) for r in await reader.read()]
    return seen


async def test_a_closed_shard_continues_in_its_child():
    """Records of a closed shard come first, then its child's, each once."""
    streams = ScriptedStreams({"a": (None, [1, 2, 3], True), "b": ("a", [4, 5], False)})
    assert await _read_all(ShardReader(streams, "arn", batch_size=2)) == [1, 2, 3, 4, 5]


async def test_a_child_that_appears_later_is_found():
    """A closed shard whose child is not listed yet is followed once the child appears."""
    streams = ScriptedStreams({"a": (None, [1], True)})
    reader = ShardReader(streams, "arn", batch_size=10)
    assert await _read_all(reader, reads=3) == [1]
    streams.shards["b"] = ("a", [2], False)
    assert await _read_all(reader, reads=3) == [2]


@pytest.mark.parametrize("code", ["ExpiredIteratorException", "TrimmedDataAccessException"])
async def test_a_lost_iterator_resumes_right_after_the_last_record(code):
    """An expired or trimmed iterator is replaced by one after the last record read: nothing
    is read twice and nothing is skipped."""
    streams = ScriptedStreams({"a": (None, [1, 2, 3, 4], False)})
    reader = ShardReader(streams, "arn", batch_size=2)
    assert await _read_all(reader, reads=1) == [1, 2]
    streams.fail = [code]
    assert await _read_all(reader, reads=3) == [3, 4]
    assert streams.iterator_requests[-1] == ("a", "AFTER_SEQUENCE_NUMBER", f"{2:021d}")


async def test_a_lost_iterator_before_any_record_starts_at_the_oldest():
    """Before any record was read, a lost iterator is replaced by TRIM_HORIZON."""
    streams = ScriptedStreams({"a": (None, [7, 8], False)})
    streams.fail = ["TrimmedDataAccessException"]
    assert await _read_all(ShardReader(streams, "arn", batch_size=10), reads=2) == [7, 8]
    assert [kind for _, kind, _ in streams.iterator_requests] == ["TRIM_HORIZON"] * 2


async def test_other_errors_reach_the_caller():
    """Errors other than a lost position are the poller's to log and retry."""
    streams = ScriptedStreams({"a": (None, [1], False)})
    streams.fail = ["InternalServerError"]
    with pytest.raises(ClientError):
        await ShardReader(streams, "arn", batch_size=10).read()
