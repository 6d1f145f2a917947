"""The @connections management API, reached through boto3 exactly as a Lambda reaches it on AWS."""

from __future__ import annotations

import asyncio
from datetime import datetime

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module", params=["websocket-host", "delivery-server"])
def management_url(request, stage) -> str:
    """Both endpoints: on the WebSocket API's host (as AWS), and the functions' own server."""
    return stage.management_url if request.param == "websocket-host" else stage.delivery_url


@pytest.fixture(scope="module")
def management(management_url):
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=management_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


async def _connection_id(dynamodb, table: str, user_id: str) -> str:
    items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    ids = {
        i["connectionId"]["S"]
        for i in items
        if i["sk"]["S"] == "meta" and i.get("userId", {}).get("S") == user_id
    }
    assert len(ids) == 1, ids
    return ids.pop()


async def test_post_delivers_a_frame(stage, user, peer, management, dynamodb, connections_table):
    """POST @connections/{id} sends the body to that client as a text frame."""
    connection_id = await _connection_id(dynamodb, connections_table, user.user_id)
    assert connection_id.endswith("="), "ids are shaped like API Gateway's (base64)"
    await asyncio.to_thread(
        management.post_to_connection,
        ConnectionId=connection_id,
        Data=b'{"type":"ping","n":1}',
    )
    assert await peer.notice() == {"type": "ping", "n": 1}  # a frame it never asked for


async def test_get_describes_the_connection(
    stage, user, peer, management, dynamodb, connections_table
):
    """GET @connections/{id} answers connectedAt, identity and lastActiveAt."""
    connection_id = await _connection_id(dynamodb, connections_table, user.user_id)
    info = await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)
    assert isinstance(info["ConnectedAt"], datetime)
    assert isinstance(info["LastActiveAt"], datetime)
    assert info["Identity"]["SourceIp"] == "127.0.0.1"


async def test_delete_closes_the_connection(
    stage, user, peer, management, dynamodb, connections_table
):
    """DELETE @connections/{id} closes the socket; $disconnect then removes the connection."""
    connection_id = await _connection_id(dynamodb, connections_table, user.user_id)
    await asyncio.to_thread(management.delete_connection, ConnectionId=connection_id)
    code = await peer.closed()
    assert code == 1000
    with pytest.raises(management.exceptions.GoneException):
        await asyncio.to_thread(management.get_connection, ConnectionId=connection_id)


@pytest.mark.parametrize("call", ["post_to_connection", "get_connection", "delete_connection"])
def test_unknown_connection_is_gone(management, call: str):
    """Any call on an unknown id answers 410 GoneException."""
    kwargs = {"ConnectionId": "does-not-exist="}
    if call == "post_to_connection":
        kwargs["Data"] = b"x"
    with pytest.raises(management.exceptions.GoneException):
        getattr(management, call)(**kwargs)


async def test_oversize_post_is_refused(stage, user, peer, management, dynamodb, connections_table):
    """A POST over 128 KB answers 413 PayloadTooLargeException and the connection stays."""
    connection_id = await _connection_id(dynamodb, connections_table, user.user_id)
    with pytest.raises(ClientError) as refused:
        await asyncio.to_thread(
            management.post_to_connection, ConnectionId=connection_id, Data=b"x" * 131_073
        )
    assert refused.value.response["Error"]["Code"] == "PayloadTooLargeException"
    answer = await peer.request({"action": "getMessages", "roomId": "general", "limit": 1})
    assert answer["type"] == "messages"


async def test_unsigned_request_is_forbidden(http, management_url):
    """A request without SigV4 authorization answers 403."""
    async with http.post(management_url + "/@connections/abc%3D", data=b"x") as response:
        assert response.status == 403


async def _raw(stage, request: bytes) -> bytes:
    """Send ``request`` to the delivery server as is; everything it answers until it closes."""
    host, port = stage.delivery_url.removeprefix("http://").split("/", 1)[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


SIGNED = "Authorization: AWS4-HMAC-SHA256 Credential=x\r\n"


async def test_delivery_server_keeps_the_connection_alive_between_requests(stage):
    """Two requests on one connection get two answers in order; Connection: close ends it."""
    one = f"GET /dev/@connections/a%3D HTTP/1.1\r\n{SIGNED}Content-Length: 0\r\n\r\n"
    two = f"GET /dev/@connections/b%3D HTTP/1.1\r\n{SIGNED}Connection: close\r\n\r\n"
    answer = await _raw(stage, (one + two).encode())
    assert answer.count(b"HTTP/1.1 410 Gone") == 2
    assert b"x-amzn-ErrorType: GoneException" in answer


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"POST /dev/@connections/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"411"),
        (b"POST /dev/@connections/a HTTP/1.1\r\nContent-Length: 200000\r\n\r\n", b"413"),
        (b"GET /dev/elsewhere HTTP/1.1\r\nConnection: close\r\n\r\n", b"404"),
        (b"GET /dev/@connections/a/b HTTP/1.1\r\nConnection: close\r\n\r\n", b"404"),
        (b"GET / HTTP/1.1\r\nX: " + b"y" * 20000 + b"\r\n\r\n", b"431"),
    ],
)
async def test_delivery_server_refuses_malformed_requests(stage, request_bytes, status):
    answer = await _raw(stage, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
