"""The embedded AWS on 127.0.0.1, started once per session, and fresh tables per test.

DynamoDB tests run on both backends of the local stage — AWS's DynamoDB Local and moto — so the
domain code is proven on each (``dynamodb_endpoint`` is parametrized); moto serves the rest.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from reference_stack.definition import Stack, load
from reference_stack.local.embedded_aws import EmbeddedAws

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "functional",
    "AWS_SECRET_ACCESS_KEY": "functional",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent/chatstack-functional-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/chatstack-functional-credentials",
}
UNSET = [
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
]

CLIENT_CONFIG = Config(max_pool_connections=32, retries={"max_attempts": 2, "mode": "standard"})


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """The local stage's embedded AWS (moto, one request at a time, as DynamoDB's atomicity
    needs) on a free loopback port, with fake credentials in the environment."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_AWS_ENV.items():
            patch.setenv(name, value)
        for name in UNSET:
            patch.delenv(name, raising=False)
        server = EmbeddedAws("127.0.0.1")
        try:
            yield server.start()
        finally:
            server.stop()


@pytest.fixture(scope="session", params=["dynamodb-local", "moto"])
def dynamodb_endpoint(request: pytest.FixtureRequest, aws_endpoint: str) -> str:
    """DynamoDB and DynamoDB Streams: the session's DynamoDB Local, or moto."""
    if request.param == "moto":
        return aws_endpoint
    return request.getfixturevalue("dynamodb_local")


@pytest.fixture(scope="session")
def dynamodb(dynamodb_endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, config=CLIENT_CONFIG)


@pytest.fixture(scope="session")
def streams(dynamodb_endpoint: str) -> Any:
    return boto3.client("dynamodbstreams", endpoint_url=dynamodb_endpoint, config=CLIENT_CONFIG)


@pytest.fixture(scope="session")
def stack() -> Stack:
    return load()


@dataclass(frozen=True)
class CreatedTable:
    name: str
    stream_arn: str | None


@pytest.fixture
def make_table(dynamodb: Any, stack: Stack) -> Iterator[Callable[..., CreatedTable]]:
    """Create a stack table under a fresh name (deleted after the test)."""
    created: list[str] = []

    def make(logical: str, ttl: bool = False) -> CreatedTable:
        """Without ``ttl`` the table has no TTL setting, so DynamoDB Local never expires items
        behind a test (tests write timestamps of 2023); the domain code never reads it."""
        spec = stack.tables[logical]
        name = f"ft-{logical}-{uuid.uuid4().hex[:12]}"
        description = dynamodb.create_table(**spec.create_table_kwargs(name))["TableDescription"]
        if spec.ttl_attribute and ttl:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
        created.append(name)
        return CreatedTable(name, description.get("LatestStreamArn"))

    yield make
    for name in created:
        dynamodb.delete_table(TableName=name)


# The tiny @connections server of the delivery tests, for every functional test module.
from tests.functional.connections_api import api, received  # noqa: E402, F401
