"""The stage's DynamoDB: AWS's DynamoDB Local by default (its own, or one shared by several
stages), moto on request; a missing install is named with what to do about it."""

from __future__ import annotations

import asyncio
import signal
import urllib.error
import urllib.request

import pytest

from conformance.target import TargetError
from tests.support.stage_process import start_stage

TIMEOUT = 15.0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


async def _eventually_silent(url: str) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while _answers(url):
        assert asyncio.get_running_loop().time() < deadline, f"{url} still answers"
        await asyncio.sleep(0.1)


@pytest.fixture
def alone(monkeypatch):
    """Stages started in this test run a DynamoDB Local of their own."""
    monkeypatch.delenv("CHATSTACK_LOCAL_DYNAMODB_ENDPOINT", raising=False)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
async def test_a_stage_alone_runs_its_own_dynamodb_local_and_takes_it_down(
    tmp_path, alone, dynamodb_local, signum
):
    """Without a shared endpoint the stage starts DynamoDB Local itself; it stops with the
    stage, even when the stage is killed outright."""
    running = start_stage(tmp_path)
    try:
        endpoint = running.dynamodb_endpoint
        assert endpoint not in (dynamodb_local, running.aws_endpoint)
        tables = running.client("dynamodb").list_tables()["TableNames"]
        assert running.table("messages") in tables
    finally:
        running.process.send_signal(signum)
        running.process.wait(TIMEOUT)
    await _eventually_silent(endpoint)


def test_a_missing_dynamodb_local_is_named_with_what_to_do(tmp_path, alone, monkeypatch):
    """A stage that cannot find DynamoDB Local exits at once, saying how to install it and how
    to run without it."""
    monkeypatch.setenv("CHATSTACK_LOCAL_DYNAMODB_LOCAL_DIR", str(tmp_path / "nothing-here"))
    with pytest.raises(TargetError) as failure:
        start_stage(tmp_path / "stage")
    message = str(failure.value)
    assert "DynamoDB Local is not installed" in message
    assert "make setup" in message and "--dynamodb moto" in message
    assert "Traceback" not in message


def test_stages_sharing_dynamodb_local_have_tables_of_their_own_and_remove_them(
    tmp_path, dynamodb_local
):
    """Two stages on one DynamoDB Local use different tables, each removed when it stops."""
    first, second = start_stage(tmp_path / "a"), start_stage(tmp_path / "b")
    try:
        assert first.dynamodb_endpoint == second.dynamodb_endpoint == dynamodb_local
        mine = {first.table(name) for name in ("users", "messages", "connections")}
        theirs = {second.table(name) for name in ("users", "messages", "connections")}
        assert not mine & theirs
        assert mine | theirs <= set(first.client("dynamodb").list_tables()["TableNames"])
    finally:
        first.stop()
    remaining = set(second.client("dynamodb").list_tables()["TableNames"])
    second.stop()
    assert not mine & remaining and theirs <= remaining


def test_moto_serves_dynamodb_on_request(tmp_path):
    """``--dynamodb moto``: moto serves DynamoDB and its streams, as before DynamoDB Local."""
    running = start_stage(tmp_path, "--dynamodb", "moto")
    try:
        assert running.dynamodb_endpoint == running.aws_endpoint
        assert running.table("users") in running.client("dynamodb").list_tables()["TableNames"]
    finally:
        running.stop()
