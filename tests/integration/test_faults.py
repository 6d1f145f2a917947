"""The fault plan (``chatstack up --faults``): under each fault, every acknowledged message is in
the history and reaches every member that stayed connected, at least once and never more often
than the retries allow; clients see only what the contract calls retryable (or a close).

Each test runs a stage with one family of faults and a small conversation through it
(``tests/support/conversation.py``); the plans are seeded, so a failure repeats.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reference_stack.definition import STACK_FILE
from tests.support.conversation import Conversation, converse
from tests.support.stage_process import RunningStage, start_stage

# Each test starts a stage and waits out faults (a DynamoDB restart takes seconds): slow on a
# busy 2-core machine, so each gets more than pytest's default 120 s.
pytestmark = pytest.mark.timeout(300)

# The contract's bound (CONTRACT.md, Faults): (1 + 10 stream retries) x 3 posts per attempt.
MOST_COPIES = 33
RETRYABLE = {"INTERNAL_ERROR", "GATEWAY_ERROR"}


def _stage(tmp: Path, plan: dict, *args: str) -> RunningStage:
    path = tmp / "plan.json"
    path.write_text(json.dumps(plan))
    return start_stage(tmp, "--faults", str(path), *args)


def _kept_the_promise(talk: Conversation) -> None:
    assert talk.acked, f"nothing was acknowledged: {talk.errors}"
    assert not talk.missing(), f"acknowledged messages lost: {talk.missing()}"
    assert set(talk.acked) <= talk.history, "an acknowledged message is not in the history"
    assert talk.most_copies() <= MOST_COPIES
    codes = {code for code in talk.errors if not code.startswith(("sign in", "connect"))}
    assert codes <= RETRYABLE | {f"signup {s}" for s in (500, 502)} | {"login 500", "login 502"}


def _injected(stage: RunningStage, kind: str) -> int:
    return sum(
        1
        for line in stage.stderr.read_text().splitlines()
        if '"fault injected"' in line and f'"kind": "{kind}"' in line
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


async def test_dynamodb_and_connections_errors_lose_no_acknowledged_message(workdir):
    """DynamoDB throttling and 5xx on every operation, and @connections answering 500, 429,
    or a status line that is not HTTP: clients see INTERNAL_ERROR at worst (and retry), every
    acknowledged message is stored and delivered."""
    plan = {
        "seed": 18,
        "faults": [
            {"kind": "dynamodb", "error": "throttling", "rate": 0.1},
            {"kind": "dynamodb", "error": "internal", "rate": 0.05},
            {"kind": "dynamodb", "error": "unavailable", "rate": 0.05},
            {"kind": "connections", "answer": 500, "rate": 0.1},
            {"kind": "connections", "answer": 429, "rate": 0.1},
            {"kind": "connections", "answer": "malformed", "rate": 0.1},
        ],
    }
    stage = _stage(workdir, plan)
    try:
        talk = await converse(stage.ws_url, stage.rest_url)
        _kept_the_promise(talk)
        assert _injected(stage, "dynamodb") and _injected(stage, "connections")
    finally:
        stage.stop()


async def test_lost_answers_duplicate_at_most_within_the_bound(workdir):
    """A DynamoDB answer held past the client's timeout (the call happened) and a slow
    @connections answer (the frame went out, the poster gave up and posted again): nothing is
    lost, and a copy beyond the first stays within the retries' bound."""
    plan = {
        "seed": 5,
        "faults": [
            {"kind": "dynamodb", "error": "timeout", "rate": 0.2, "times": 2, "delay": 6},
            {"kind": "connections", "delay": 6, "rate": 0.2, "times": 2},
        ],
    }
    stage = _stage(workdir, plan)
    try:
        talk = await converse(stage.ws_url, stage.rest_url, messages=8, timeout=90)
        _kept_the_promise(talk)
        assert _injected(stage, "connections") == 2
    finally:
        stage.stop()


@pytest.fixture(scope="module")
def short_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stack with a fan-out function that times out after 5 s (Lambda's retry of a crashed
    shard waits for its timeout, so the test need not wait a minute)."""
    stack = json.loads(STACK_FILE.read_text())
    stack["functions"]["fanout_shard"]["timeout_s"] = 5
    path = tmp_path_factory.mktemp("stack") / "stack.json"
    path.write_text(json.dumps(stack))
    return path


async def test_crashed_and_killed_workers_and_a_restarted_poller_lose_nothing(
    workdir, short_shards
):
    """The broadcaster crashes mid-batch, a fan-out worker crashes mid-shard, worker processes
    are killed, the stream poller restarts: the sandboxes are replaced, the work retried, and
    every member of a sharded room gets every acknowledged message."""
    plan = {
        "seed": 3,
        "faults": [
            {"kind": "crash", "function": "broadcaster", "after_posts": 2, "times": 2},
            {"kind": "crash", "function": "fanout_shard", "after_posts": 1, "times": 1},
            {"kind": "kill", "function": "broadcaster", "at": 4, "every": 3, "times": 2},
            {"kind": "restart", "part": "poller", "at": 2, "every": 2.5, "times": 3},
        ],
    }
    stage = _stage(
        workdir, plan, "--stack", str(short_shards), "--shard-threshold", "2", "--shard-size", "2"
    )
    try:
        talk = await converse(stage.ws_url, stage.rest_url, members=4, timeout=90)
        _kept_the_promise(talk)
        assert _injected(stage, "crash") >= 1 and _injected(stage, "restart") >= 1
    finally:
        stage.stop()


@pytest.fixture
def own_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This stage starts a DynamoDB Local of its own (its restart must not hit the shared one)."""
    monkeypatch.delenv("CHATSTACK_LOCAL_DYNAMODB_ENDPOINT", raising=False)
    yield


async def test_restarted_dynamodb_and_moto_lose_nothing(workdir, own_dynamodb):
    """DynamoDB Local and moto are killed: the stage restarts them (DynamoDB Local's tables on
    disk), clients see retryable errors while they are down, and nothing acknowledged is lost."""
    plan = {
        "seed": 9,
        "faults": [
            {"kind": "restart", "part": "moto", "at": 1},
            {"kind": "restart", "part": "dynamodb", "at": 3},
        ],
    }
    stage = _stage(workdir, plan)
    try:
        talk = await converse(stage.ws_url, stage.rest_url, messages=20, pace=0.4, timeout=90)
        _kept_the_promise(talk)
        assert _injected(stage, "restart") == 2
        assert stage.logs().count('"embedded AWS restarted"') == 2
    finally:
        stage.stop()


async def test_a_lost_connection_is_closed_and_the_others_get_everything(workdir):
    """@connections loses a connection (410): the stage closes it (1011) — its client sees a
    close — and every member that stayed connected gets every acknowledged message."""
    plan = {"seed": 2, "faults": [{"kind": "connections", "answer": 410, "rate": 0.1, "times": 1}]}
    stage = _stage(workdir, plan)
    try:
        talk = await converse(stage.ws_url, stage.rest_url, members=4, senders=1)
        _kept_the_promise(talk)
        assert len(talk.closed) == 1
    finally:
        stage.stop()
