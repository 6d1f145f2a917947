"""Session-wide test fixtures: one DynamoDB Local for the whole run, shared by every stage.

A JVM costs ~3 s and ~250 MB per start, so the local stages that tests start (integration,
browser, load tests, the conformance variants) all use the session's DynamoDB Local, each with
tables of its own (``CHATSTACK_LOCAL_DYNAMODB_ENDPOINT``, read by ``chatstack up``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reference_stack.local.dynamodb_local import DynamoDBLocal

# Test folders whose tests start local stages (child `chatstack up` processes).
STAGE_FOLDERS = ("integration", "browser", "loadtests", "conformance_variants")


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[str]:
    """AWS's DynamoDB Local on a free loopback port, for the whole session; its URL."""
    server = DynamoDBLocal("127.0.0.1")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session", autouse=True)
def stages_share_dynamodb_local(request: pytest.FixtureRequest) -> Iterator[None]:
    """When the run starts local stages, they all use the session's DynamoDB Local."""
    tests = Path(__file__).parent
    folders = {Path(item.path).relative_to(tests).parts[0] for item in request.session.items}
    if not folders.intersection(STAGE_FOLDERS):
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHATSTACK_LOCAL_DYNAMODB_ENDPOINT", request.getfixturevalue("dynamodb_local"))
        yield
