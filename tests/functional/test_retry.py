"""`retry_transaction_conflicts` (lambdas/domain/retry.py): only pure conflicts are retried."""

from __future__ import annotations

import types

import pytest
from botocore.exceptions import ClientError

from lambdas.domain import retry as retry_module
from lambdas.domain.retry import retry_transaction_conflicts


def cancelled(*codes: str) -> ClientError:
    """A TransactionCanceledException as botocore builds it, with one reason per item."""
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


class Script:
    """A callable that raises the scripted errors in order, then returns ``result``."""

    def __init__(self, *errors: Exception, result: str = "done") -> None:
        self.errors = list(errors)
        self.result = result
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


@pytest.fixture
def delays(monkeypatch):
    """The back-off delays requested, without sleeping them."""
    requested: list[float] = []
    monkeypatch.setattr(retry_module, "time", types.SimpleNamespace(sleep=requested.append))
    return requested


def test_success_first_time_is_returned_without_retry(delays):
    """A call that succeeds is run once and its value returned."""
    call = Script()
    assert retry_transaction_conflicts(call) == "done"
    assert call.calls == 1
    assert delays == []


def test_transaction_conflict_then_success_is_retried(delays):
    """A cancellation for TransactionConflict only is retried until the call succeeds."""
    call = Script(
        cancelled("TransactionConflict", "None"), cancelled("None", "TransactionConflict")
    )
    assert retry_transaction_conflicts(call) == "done"
    assert call.calls == 3
    assert len(delays) == 2


@pytest.mark.parametrize(
    "codes",
    [
        ("ConditionalCheckFailed", "None"),
        ("ConditionalCheckFailed", "TransactionConflict"),
        ("TransactionConflict", "ConditionalCheckFailed"),
        ("None", "None"),
        ("ValidationError",),
        (),
    ],
    ids=["condition", "condition+conflict", "conflict+condition", "none", "validation", "empty"],
)
def test_cancellation_with_a_decided_outcome_is_not_retried(delays, codes):
    """A failed condition (even beside a conflict) or any other reason propagates at once."""
    error = cancelled(*codes)
    call = Script(error)
    with pytest.raises(ClientError) as caught:
        retry_transaction_conflicts(call)
    assert caught.value is error
    assert call.calls == 1
    assert delays == []


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ValidationException", "InternalServerError"]
)
def test_other_client_errors_are_not_retried(delays, code):
    """Errors other than a cancelled transaction are not this helper's to retry."""
    error = ClientError({"Error": {"Code": code, "Message": "x"}}, "TransactWriteItems")
    call = Script(error)
    with pytest.raises(ClientError):
        retry_transaction_conflicts(call)
    assert call.calls == 1


def test_non_client_errors_propagate_untouched(delays):
    """A non-AWS exception is not caught."""
    call = Script(KeyError("boom"))
    with pytest.raises(KeyError):
        retry_transaction_conflicts(call)
    assert call.calls == 1


def test_persistent_conflict_gives_up_after_the_last_attempt(delays):
    """After ``attempts`` conflicts the last one propagates; there are attempts-1 waits."""
    errors = [cancelled("TransactionConflict") for _ in range(10)]
    call = Script(*errors)
    with pytest.raises(ClientError) as caught:
        retry_transaction_conflicts(call, attempts=4, base_delay=0.01)
    assert caught.value is errors[3]
    assert call.calls == 4
    assert len(delays) == 3


def test_back_off_grows_exponentially_with_jitter(delays):
    """Each wait is base * 2**attempt scaled by a jitter between 0.5 and 1.5."""
    call = Script(*[cancelled("TransactionConflict") for _ in range(4)])
    assert retry_transaction_conflicts(call, attempts=5, base_delay=0.1) == "done"
    assert len(delays) == 4
    for attempt, delay in enumerate(delays):
        nominal = 0.1 * 2**attempt
        assert 0.5 * nominal <= delay <= 1.5 * nominal
