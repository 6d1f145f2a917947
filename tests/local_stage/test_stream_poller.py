"""The stream poller against real streams (DynamoDB Local's and moto's): batches, retries from
the failed record, whole-batch retries on function errors, and the on-failure destination."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from reference_stack.definition import load
from reference_stack.local.invoker import InvocationFailed
from reference_stack.local.stream_poller import StreamPoller, lane_of

TIMEOUT = 10.0


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["dynamodb-local", "moto"])
def streams_url(request: pytest.FixtureRequest) -> str:
    """Where DynamoDB and its streams are served: each backend of the local stage in turn."""
    fixture = "dynamodb_local" if request.param == "dynamodb-local" else "moto_url"
    return request.getfixturevalue(fixture)


def _client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture
def table(streams_url: str) -> tuple[Any, str, str]:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    dynamodb = _client("dynamodb", streams_url)
    name = f"messages-{uuid.uuid4().hex[:8]}"
    created = dynamodb.create_table(**load().tables["messages"].create_table_kwargs(name))
    return dynamodb, name, created["TableDescription"]["LatestStreamArn"]


def _put(dynamodb: Any, table: str, n: int) -> None:
    for i in range(n):
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": "room#r"},
                "sk": {"S": f"{i:013d}#x"},
                "messageId": {"S": f"m{i}"},
            },
        )


class ScriptedFunction:
    """Answers each invocation from a script: a result dict, or "error" to fail it."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.batches: list[list[str]] = []

    async def invoke(self, function: str, event: dict[str, Any]) -> Any:
        self.batches.append([r["dynamodb"]["NewImage"]["messageId"]["S"] for r in event["Records"]])
        assert all(r["eventSourceARN"] for r in event["Records"])
        step = self.script.pop(0) if self.script else {"batchItemFailures": []}
        if step == "error":
            raise InvocationFailed("scripted")
        if callable(step):
            return step(event)
        return step


async def _run_until(poller: StreamPoller, done) -> None:
    task = asyncio.create_task(poller.run())
    try:
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while not done():
            assert asyncio.get_running_loop().time() < deadline, "poller did not finish in time"
            await asyncio.sleep(0.02)
    finally:
        task.cancel()


def _poller(url, arn, function, retries=3, lanes=1) -> StreamPoller:
    return StreamPoller(
        _client("dynamodbstreams", url),
        arn,
        function,
        "broadcaster",
        batch_size=100,
        maximum_retry_attempts=retries,
        poll_interval=0.05,
        retry_delay=0.01,
        parallelization_factor=lanes,
    )


async def test_batch_is_retried_from_the_first_failed_record(streams_url, table):
    """A reported failure at record 3 re-invokes with records 3.. only; earlier ones are done."""
    dynamodb, name, arn = table
    _put(dynamodb, name, 5)

    def fail_at_m3(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": event["Records"][3]["dynamodb"]["SequenceNumber"]}
            ]
        }

    function = ScriptedFunction(fail_at_m3)
    await _run_until(_poller(streams_url, arn, function), lambda: len(function.batches) >= 2)
    assert function.batches[:2] == [["m0", "m1", "m2", "m3", "m4"], ["m3", "m4"]]


async def test_function_error_retries_whole_batch(streams_url, table):
    """A function error re-invokes with the same records."""
    dynamodb, name, arn = table
    _put(dynamodb, name, 2)
    function = ScriptedFunction("error", "error")
    await _run_until(_poller(streams_url, arn, function), lambda: len(function.batches) >= 3)
    assert function.batches[:3] == [["m0", "m1"]] * 3


async def test_exhausted_retries_go_to_the_failure_destination_and_shard_moves_on(
    streams_url, table
):
    """After the retry limit the records are dead-lettered (logged) and later records flow."""
    dynamodb, name, arn = table
    _put(dynamodb, name, 2)
    function = ScriptedFunction("error", "error", "error")
    poller = _poller(streams_url, arn, function, retries=2)
    task = asyncio.create_task(poller.run())
    try:
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while len(poller.dead_letters) < 2:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
        assert [d["messageId"] for d in poller.dead_letters] == ["m0", "m1"]
        assert function.batches == [["m0", "m1"]] * 3
        dynamodb.put_item(
            TableName=name,
            Item={
                "pk": {"S": "room#r"},
                "sk": {"S": "9#x"},
                "messageId": {"S": "later"},
            },
        )
        poller.nudge()
        while function.batches[-1] != ["later"]:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
    finally:
        task.cancel()


async def test_records_flow_when_other_tables_were_written_before_the_first(streams_url, table):
    """A stream whose shard was still empty when tailing began delivers its first records even
    after other tables' writes (DynamoDB Local numbers records across tables)."""
    dynamodb, name, arn = table
    other = f"other-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(**load().tables["messages"].create_table_kwargs(other))
    function = ScriptedFunction()
    poller = _poller(streams_url, arn, function)
    task = asyncio.create_task(poller.run())
    try:
        await asyncio.sleep(0.2)  # the poller takes its iterator while the shard is empty
        for i in range(3):
            dynamodb.put_item(TableName=other, Item={"pk": {"S": f"o{i}"}, "sk": {"S": "x"}})
        _put(dynamodb, name, 2)
        poller.nudge()
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while sum(len(batch) for batch in function.batches) < 2:
            assert asyncio.get_running_loop().time() < deadline, f"got {function.batches}"
            await asyncio.sleep(0.02)
        assert [m for batch in function.batches for m in batch] == ["m0", "m1"]
    finally:
        task.cancel()


async def _until(condition, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_a_restarted_poller_goes_on_from_its_checkpoint(streams_url, table):
    """A poller restarted between batches invokes only the records written since the last batch
    it finished — none twice, none skipped — as Lambda's event source mapping resumes."""
    dynamodb, name, arn = table
    _put(dynamodb, name, 2)
    function = ScriptedFunction()
    poller = _poller(streams_url, arn, function)
    poller.start()
    try:
        await _until(lambda: len(function.batches) == 1, "the first batch")
        await poller.restart()
        dynamodb.put_item(
            TableName=name,
            Item={"pk": {"S": "room#r"}, "sk": {"S": "9#x"}, "messageId": {"S": "m9"}},
        )
        poller.nudge()
        await _until(lambda: len(function.batches) == 2, "the batch after the restart")
        assert function.batches == [["m0", "m1"], ["m9"]]
    finally:
        await poller.stop()


async def test_a_poller_that_fails_unexpectedly_is_restarted_and_retries_its_batch(
    streams_url, table
):
    """An error the poller does not expect (not a function error) is logged and the poller
    goes on from its checkpoint, invoking the interrupted batch again: it never dies unnoticed."""
    dynamodb, name, arn = table
    _put(dynamodb, name, 2)

    def unexpected(event: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("a bug in the stage")

    function = ScriptedFunction(unexpected)
    poller = _poller(streams_url, arn, function)
    poller.start()
    try:
        await _until(lambda: len(function.batches) == 2, "the batch to be invoked again")
        assert function.batches == [["m0", "m1"], ["m0", "m1"]]
        assert poller.restarts == 1
    finally:
        await poller.stop()


# -- lanes (the mapping's ParallelizationFactor) -----------------------------------------------


def _keys_in_distinct_lanes(lanes: int, count: int) -> list[str]:
    """``count`` room partition keys that fall in ``count`` different lanes of ``lanes``."""
    found: dict[int, str] = {}
    for i in range(1000):
        key = f"room#r{i}"
        record = {"dynamodb": {"Keys": {"pk": {"S": key}}}}
        found.setdefault(lane_of(record, "pk", lanes), key)
        if len(found) == count:
            return list(found.values())
    raise AssertionError("no such keys")


def _put_to(dynamodb: Any, table: str, pk: str, message_id: str) -> None:
    dynamodb.put_item(
        TableName=table,
        Item={
            "pk": {"S": pk},
            "sk": {"S": f"{time.time_ns()}#x"},
            "messageId": {"S": message_id},
        },
    )


class HeldFunction(ScriptedFunction):
    """Holds every batch that carries a message of ``held`` until ``release`` is set."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held = held
        self.release = asyncio.Event()

    async def invoke(self, function: str, event: dict[str, Any]) -> Any:
        result = await super().invoke(function, event)
        if any(self.held in m for m in self.batches[-1]):
            await self.release.wait()
        return result


def test_a_partition_keys_lane_is_stable_and_within_the_factor():
    record = {"dynamodb": {"Keys": {"pk": {"S": "room#general"}, "sk": {"S": "1#m"}}}}
    assert lane_of(record, "pk", 1) == 0
    lanes = {lane_of(record, "pk", 4) for _ in range(3)}
    assert len(lanes) == 1 and lanes <= {0, 1, 2, 3}
    assert (
        len(
            {
                lane_of({"dynamodb": {"Keys": {"pk": {"S": f"room#{i}"}}}}, "pk", 4)
                for i in range(40)
            }
        )
        == 4
    )


def test_the_factor_is_lambdas_range():
    with pytest.raises(ValueError, match="1 to 10"):
        StreamPoller(
            None,
            "arn",
            None,
            "f",
            batch_size=1,
            maximum_retry_attempts=0,
            poll_interval=1,
            parallelization_factor=11,
        )


async def test_a_held_batch_holds_up_only_its_own_lane(streams_url, table):
    """With lanes, a room whose batch does not finish (a slow @connections answer, a flood)
    leaves the other lanes' rooms flowing; its own room's later records wait behind it; and the
    checkpoint stays before it, so a restarted poller invokes it again."""
    dynamodb, name, arn = table
    slow, quick = _keys_in_distinct_lanes(4, 2)
    function = HeldFunction("slow")
    poller = _poller(streams_url, arn, function, lanes=4)
    poller.start()
    try:
        _put_to(dynamodb, name, slow, "slow-1")
        poller.nudge()
        await _until(lambda: ["slow-1"] in function.batches, "the slow room's batch")
        _put_to(dynamodb, name, slow, "slow-2")
        _put_to(dynamodb, name, quick, "quick-1")
        poller.nudge()
        await _until(lambda: ["quick-1"] in function.batches, "the other room's batch")
        assert not any("slow-2" in batch for batch in function.batches), "order within a room"
        await poller.restart()  # the slow batch never finished: it is invoked again
        await _until(lambda: sum("slow-1" in batch for batch in function.batches) == 2, "it again")
        function.release.set()
        _put_to(dynamodb, name, slow, "slow-3")
        poller.nudge()
        await _until(lambda: any("slow-3" in b for b in function.batches), "the room's next")
        assert sum("slow-1" in batch for batch in function.batches) == 2
    finally:
        await poller.stop()


async def test_each_rooms_records_keep_their_order_across_lanes(streams_url, table):
    """Records of many rooms, interleaved, reach the function each room in stream order."""
    dynamodb, name, arn = table
    rooms = _keys_in_distinct_lanes(4, 4)
    sent = [(room, f"{room}/{n}") for n in range(6) for room in rooms]
    for room, message_id in sent:
        _put_to(dynamodb, name, room, message_id)

    class Shuffling(ScriptedFunction):
        async def invoke(self, function: str, event: dict[str, Any]) -> Any:
            result = await super().invoke(function, event)
            await asyncio.sleep(0.01 * (len(self.batches) % 3))  # lanes finish out of step
            return result

    function = Shuffling()
    await _run_until(
        _poller(streams_url, arn, function, lanes=4),
        lambda: sum(len(b) for b in function.batches) >= len(sent),
    )
    invoked = [m for batch in function.batches for m in batch]
    assert sorted(invoked) == sorted(m for _, m in sent)  # each once
    for room in rooms:
        assert [m for m in invoked if m.startswith(room)] == [m for r, m in sent if r == room]


class _FailingFirst:
    """A streams client whose first ``failures`` calls fail, as while DynamoDB restarts."""

    def __init__(self, inner: Any, failures: int) -> None:
        self._inner = inner
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        def call(**kwargs: Any) -> Any:
            if self.failures > 0:
                self.failures -= 1
                raise ConnectionRefusedError("DynamoDB is restarting")
            return method(**kwargs)

        return call


async def test_failing_reads_log_one_traceback_then_recover(streams_url, table, caplog):
    """Reads failing poll after poll log one ERROR with its traceback (not one per poll); once
    reads work again a recovery line is logged and the records flow."""
    dynamodb, name, arn = table
    _put(dynamodb, name, 1)
    client = _FailingFirst(_client("dynamodbstreams", streams_url), failures=30)
    function = ScriptedFunction()
    poller = StreamPoller(
        client,
        arn,
        function,
        "broadcaster",
        batch_size=100,
        maximum_retry_attempts=3,
        poll_interval=0.01,
    )
    with caplog.at_level(logging.INFO, logger="chatstack.stage"):
        await _run_until(poller, lambda: function.batches == [["m0"]])
    failed = [r for r in caplog.records if r.getMessage() == "stream read failed"]
    assert client.failures == 0 and len(failed) == 1 and failed[0].exc_info
    assert [r.getMessage() for r in caplog.records].count("stream read recovered") == 1
