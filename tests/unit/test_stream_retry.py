"""`_retry_from` (reference_stack/local/stream_poller.py): ReportBatchItemFailures rules."""

from __future__ import annotations

import pytest

from reference_stack.local.stream_poller import _retry_from


def records(*seqs: str) -> list[dict]:
    return [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": s}} for s in seqs]


def seqs(batch: list[dict]) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in batch]


BATCH = records("100", "200", "300", "400")


@pytest.mark.parametrize(
    "result",
    [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}, "ok", 1, [], {"other": 1}],
    ids=["none", "empty-dict", "empty-list", "null-list", "string", "int", "list", "other-key"],
)
def test_success_answers_retry_nothing(result):
    """No batchItemFailures (or an answer that is not a dict) means the batch succeeded."""
    assert _retry_from(BATCH, result) == []


def test_one_failure_retries_from_that_record_on():
    """The batch is retried from the failed record, including every later one."""
    result = {"batchItemFailures": [{"itemIdentifier": "300"}]}
    assert seqs(_retry_from(BATCH, result)) == ["300", "400"]


def test_first_record_failure_retries_the_whole_batch():
    """A failure on the first record retries everything."""
    result = {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert seqs(_retry_from(BATCH, result)) == ["100", "200", "300", "400"]


def test_last_record_failure_retries_only_it():
    """A failure on the last record retries that record alone."""
    result = {"batchItemFailures": [{"itemIdentifier": "400"}]}
    assert seqs(_retry_from(BATCH, result)) == ["400"]


def test_several_failures_retry_from_the_earliest_in_batch_order():
    """With several failures, the retry starts at the one earliest in the batch."""
    result = {"batchItemFailures": [{"itemIdentifier": "400"}, {"itemIdentifier": "200"}]}
    assert seqs(_retry_from(BATCH, result)) == ["200", "300", "400"]


@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{}],
        ["200"],
        [None],
        [{"itemIdentifier": "300"}, {"wrong": "x"}],
    ],
    ids=["empty-id", "null-id", "no-id", "bare-string", "null", "one-malformed"],
)
def test_malformed_failure_retries_the_whole_batch(failures):
    """A failure entry without an itemIdentifier fails the whole batch, as Lambda does."""
    assert seqs(_retry_from(BATCH, {"batchItemFailures": failures})) == ["100", "200", "300", "400"]


def test_unknown_identifier_retries_the_whole_batch():
    """An itemIdentifier naming no record of the batch fails the whole batch."""
    result = {"batchItemFailures": [{"itemIdentifier": "999"}]}
    assert seqs(_retry_from(BATCH, result)) == ["100", "200", "300", "400"]


def test_retry_returns_the_original_record_objects():
    """The retried records are the batch's own records, unchanged."""
    batch = records("1", "2")
    retried = _retry_from(batch, {"batchItemFailures": [{"itemIdentifier": "2"}]})
    assert retried[0] is batch[1]
