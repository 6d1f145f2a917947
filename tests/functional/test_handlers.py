"""Each Lambda handler, invoked directly with AWS-shaped sample events (tests/events/*.json),
against moto's DynamoDB and a stub @connections endpoint."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from lambdas import runtime
from lambdas.handlers import (
    broadcaster,
    connect,
    default,
    disconnect,
    fanout_shard,
    get_messages,
    join_room,
    login,
    send_message,
    signup,
)
from tests.functional.connections_api import ConnectionsApi, Received

EVENTS = Path(__file__).resolve().parents[1] / "events"
SECRET = "functional-test-signing-key-0123456789abcdef"


def event(name: str, **changes: Any) -> dict[str, Any]:
    loaded = json.loads((EVENTS / f"{name}.json").read_text())
    return {**copy.deepcopy(loaded), **changes}


def context(name: str) -> SimpleNamespace:
    return SimpleNamespace(
        function_name=f"chatstack-test-{name}",
        aws_request_id="req-1",
        get_remaining_time_in_millis=lambda: 30_000,
    )


class Connections:
    """The tiny @connections server (tests/functional/connections_api.py) as the handlers see
    it: its URL, and the frames it accepted (ids starting with 'gone' are answered 410)."""

    def __init__(self, api: ConnectionsApi, received: list[Received]) -> None:
        self.url = f"{api.url}/dev"
        self._received = received

    @property
    def posts(self) -> list[tuple[str, dict[str, Any]]]:
        ids = [(r.path.rsplit("/", 1)[-1], r) for r in self._received]
        return [(cid, json.loads(r.body)) for cid, r in ids if not cid.startswith("gone")]


@pytest.fixture
def management(api: ConnectionsApi, received: list[Received]) -> Connections:
    return Connections(api, received)


@pytest.fixture
def deployed(
    monkeypatch, aws_endpoint, dynamodb_endpoint, make_table, management
) -> Iterator[dict[str, str]]:
    """A cold container with the environment the Terraform gives each function."""
    tables = {logical: make_table(logical).name for logical in ("users", "messages", "connections")}
    env = {
        "CHATSTACK_USERS_TABLE": tables["users"],
        "CHATSTACK_MESSAGES_TABLE": tables["messages"],
        "CHATSTACK_CONNECTIONS_TABLE": tables["connections"],
        "CHATSTACK_JWT_SECRET": SECRET,
        "CHATSTACK_BCRYPT_ROUNDS": "10",
        "CHATSTACK_MANAGEMENT_URL": management.url,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    yield tables
    runtime.reset()


def rest(handler: Any, body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    raw = body if isinstance(body, str) else json.dumps(body)
    answer = handler(event("rest_post", body=raw), context("rest"))
    return answer["statusCode"], json.loads(answer["body"]), answer["headers"]


def ws(handler: Any, connection_id: str, frame: Any) -> dict[str, Any]:
    message = event("ws_message", body=frame if isinstance(frame, str) else json.dumps(frame))
    message["requestContext"]["connectionId"] = connection_id
    answer = handler(message, context("ws"))
    assert answer["statusCode"] == 200
    return json.loads(answer["body"])


def connected(token: str, connection_id: str) -> dict[str, Any]:
    hello = event("ws_connect")
    hello["queryStringParameters"] = {"token": token}
    hello["requestContext"]["connectionId"] = connection_id
    return connect.handler(hello, context("connect"))


def test_signup_and_login_answer_the_contract(deployed):
    """signup answers 201 with CORS; login answers a token; errors carry the request id."""
    status, body, headers = rest(
        signup.handler, {"email": "Ada@Example.com", "password": "password1", "username": "ada"}
    )
    assert status == 201 and set(body) == {"userId", "email", "username"}
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, answer, _ = rest(login.handler, {"email": "ada@example.com", "password": "password1"})
    assert status == 200 and answer["user"] == body and answer["expiresIn"] == 86400
    status, error, _ = rest(signup.handler, "not json")
    assert status == 400 and error["error"]["code"] == "INVALID_JSON"
    assert error["error"]["requestId"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_base64_encoded_bodies_are_decoded(deployed):
    """A body API Gateway passes base64-encoded is decoded before parsing."""
    import base64

    raw = json.dumps({"email": "b64@example.com", "password": "password1", "username": "b"})
    encoded = event("rest_post", body=base64.b64encode(raw.encode()).decode(), isBase64Encoded=True)
    answer = signup.handler(encoded, context("signup"))
    assert answer["statusCode"] == 201, answer


def test_connect_refuses_bad_tokens_and_stores_good_ones(deployed):
    """$connect answers 401 for a bad token and 200 for a valid one."""
    assert connected("bad", "L0SM9cOFvHcCIhw=")["statusCode"] == 401
    rest(signup.handler, {"email": "c@example.com", "password": "password1", "username": "c"})
    _, answer, _ = rest(login.handler, {"email": "c@example.com", "password": "password1"})
    assert connected(answer["token"], "L0SM9cOFvHcCIhw=") == {"statusCode": 200}


def test_routes_answer_frames_and_the_broadcaster_fans_out(deployed, management):
    """join, send, history and $default answer frames; the stream event reaches the members."""
    rest(signup.handler, {"email": "d@example.com", "password": "password1", "username": "d"})
    _, answer, _ = rest(login.handler, {"email": "d@example.com", "password": "password1"})
    connected(answer["token"], "conn-A=")
    assert ws(join_room.handler, "conn-A=", {"action": "joinRoom", "roomId": "lab"}) == {
        "type": "ack",
        "action": "joinRoom",
        "roomId": "lab",
    }
    ack = ws(
        send_message.handler, "conn-A=", {"action": "sendMessage", "roomId": "lab", "message": "hi"}
    )
    assert ack["type"] == "ack" and ack["duplicate"] is False
    page = ws(get_messages.handler, "conn-A=", {"action": "getMessages", "roomId": "lab"})
    assert [m["message"] for m in page["messages"]] == ["hi"]
    assert ws(default.handler, "conn-A=", "nope")["code"] == "INVALID_JSON"
    assert ws(default.handler, "conn-A=", {"action": "dance"})["code"] == "UNKNOWN_ACTION"

    stream = event("stream_insert")
    image = stream["Records"][0]["dynamodb"]["NewImage"]
    image["roomId"]["S"], image["pk"]["S"] = "lab", "room#lab"
    result = broadcaster.handler(stream, context("broadcaster"))
    assert result == {"batchItemFailures": []}
    assert [(cid, frame["message"]) for cid, frame in management.posts] == [
        ("conn-A=", "hello <b>world</b>")
    ]


def test_disconnect_forgets_the_connection(deployed):
    """$disconnect removes the connection: a later send from it is not in any room."""
    rest(signup.handler, {"email": "e@example.com", "password": "password1", "username": "e"})
    _, answer, _ = rest(login.handler, {"email": "e@example.com", "password": "password1"})
    connected(answer["token"], "L0SM9cOFvHcCIhw=")
    assert disconnect.handler(event("ws_disconnect"), context("disconnect")) == {"statusCode": 200}
    frame = ws(
        send_message.handler,
        "L0SM9cOFvHcCIhw=",
        {"action": "sendMessage", "roomId": "general", "message": "x"},
    )
    assert frame["code"] == "NOT_IN_ROOM"


def test_the_fanout_function_delivers_a_shard_once_and_drops_malformed_events(deployed, management):
    """A shard event posts its frame to each listed connection (a gone one answers 410 and is
    not counted); the same event again posts nothing; a malformed event is reported, not raised
    (a retry could not heal it)."""
    shard = event("fanout_shard")
    result = fanout_shard.handler(shard, context("fanout_shard"))
    assert result == {
        "messages": 0,
        "delivered": 2,
        "gone": 1,
        "failed": 0,
        "retried": 0,
        "shards": 0,
        "skipped": 0,
    }
    assert sorted((cid, frame["message"]) for cid, frame in management.posts) == [
        ("conn-A=", "hello"),
        ("conn-B+c=", "hello"),
    ]
    again = fanout_shard.handler(event("fanout_shard"), context("fanout_shard"))
    assert again["skipped"] == 1 and len(management.posts) == 2
    assert "error" in fanout_shard.handler({"kind": "other"}, context("fanout_shard"))
