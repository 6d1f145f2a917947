"""Integration tests: a real local stage in a child process, driven over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import boto3
import pytest

from tests.support.chat_client import Peer, Rest, User
from tests.support.stage_process import RunningStage, start_stage


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
    return Rest(http, stage.rest_url)


@pytest.fixture
async def user(rest: Rest) -> User:
    return await rest.new_user("alice")


@pytest.fixture
async def peer(stage: RunningStage, user: User) -> AsyncIterator[Peer]:
    connected = await Peer.connect(stage.ws_url, user.token)
    yield connected
    await connected.close()


@pytest.fixture(scope="session")
def dynamodb(stage: RunningStage):
    """The stage's embedded DynamoDB, to look behind the API where a clause is about storage."""
    return boto3.client(
        "dynamodb",
        endpoint_url=stage.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
