"""Integration tests: a real local stage in a child process, driven over real sockets.

The contract's answers are the conformance suite's business (``chatstack conform``, run by
``make test``); these tests look behind them — storage, logs, the stage's own limits and APIs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import aiohttp
import pytest

from conformance.client import Peer, Rest, User
from tests.support.stage_process import RunningStage, start_stage

# Every wait polls until this deadline and returns as soon as it may: a long deadline costs
# nothing when the stage is quick, and a 2-core machine running several stages is not.
TIMEOUT = 15.0


@pytest.fixture(scope="session")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStage]:
    running = start_stage(tmp_path_factory.mktemp("stage"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(scope="session")
def rest(http: aiohttp.ClientSession, stage: RunningStage) -> Rest:
    return Rest(http, stage.rest_url, TIMEOUT)


@pytest.fixture
async def user(rest: Rest) -> User:
    return await rest.new_user("alice")


@pytest.fixture
async def connect(stage: RunningStage) -> AsyncIterator[Callable[..., Awaitable[Peer]]]:
    """Open connections (to ``stage`` or another); all are closed after the test."""
    opened: list[Peer] = []

    async def open_peer(who: User, on: RunningStage = stage) -> Peer:
        peer = await Peer.connect(on.ws_url, who.token, TIMEOUT)
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        await peer.close()


@pytest.fixture
async def peer(connect, user: User) -> Peer:
    return await connect(user)


@pytest.fixture(scope="session")
def dynamodb(stage: RunningStage):
    """The stage's embedded DynamoDB, to look behind the API where a clause is about storage."""
    return stage.client("dynamodb")


@pytest.fixture(scope="session")
def connections_table(stage: RunningStage) -> str:
    return stage.table("connections")
