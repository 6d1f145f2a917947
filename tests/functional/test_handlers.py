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
from lambdas.domain import connections as connections_module
from lambdas.handlers import (
    broadcaster,
    chat_inbox,
    chat_messages,
    chat_receipts,
    connect,
    create_chat,
    default,
    disconnect,
    fanout_shard,
    get_chat,
    get_messages,
    join_room,
    list_chats,
    login,
    receipt,
    room_receipts,
    send_message,
    send_typing,
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
    logical_names = ("users", "messages", "connections", "chats")
    tables = {logical: make_table(logical).name for logical in logical_names}
    env = {
        "CHATSTACK_USERS_TABLE": tables["users"],
        "CHATSTACK_MESSAGES_TABLE": tables["messages"],
        "CHATSTACK_CONNECTIONS_TABLE": tables["connections"],
        "CHATSTACK_CHATS_TABLE": tables["chats"],
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


# --- contract v2: Bearer REST routes, chats through the handlers --------------------------------


def authed(handler: Any, token: str | None, body: Any = None, **changes: Any) -> tuple[int, dict]:
    """Call a v2 REST handler as API Gateway would, with ``Authorization: Bearer token``."""
    request = event("rest_post", body=None if body is None else json.dumps(body), **changes)
    if token is not None:
        request["headers"]["Authorization"] = f"Bearer {token}"
    answer = handler(request, context("rest"))
    return answer["statusCode"], json.loads(answer["body"])


def signed_up(name: str) -> tuple[str, str]:
    """(userId, token) of a new user."""
    email = f"{name}@example.com"
    _, user, _ = rest(signup.handler, {"email": email, "password": "password1", "username": name})
    _, answer, _ = rest(login.handler, {"email": email, "password": "password1"})
    return user["userId"], answer["token"]


def chat_message_inserted(ack: dict[str, Any], user_id: str, username: str, text: str) -> dict:
    """The Messages stream's record of the chat message ``ack`` acknowledged."""
    stream = event("stream_insert")
    stream["Records"][0]["dynamodb"]["NewImage"] = {
        "pk": {"S": f"chat#{ack['chatId']}"},
        "sk": {"S": f"{ack['timestamp']:013d}#{ack['messageId']}"},
        "kind": {"S": "message"},
        "messageId": {"S": ack["messageId"]},
        "chatId": {"S": ack["chatId"]},
        "userId": {"S": user_id},
        "username": {"S": username},
        "message": {"S": text},
        "timestamp": {"N": str(ack["timestamp"])},
        "seq": {"N": str(ack["seq"])},
    }
    return stream


def test_v2_routes_refuse_a_missing_or_bad_token_with_401(deployed):
    """Without Authorization: Bearer, or with a bad token, the answer is 401 UNAUTHORIZED."""
    for token in (None, "nonsense"):
        status, body = authed(list_chats.handler, token)
        assert status == 401 and body["error"]["code"] == "UNAUTHORIZED", body
    request = event("rest_post")
    request["headers"]["authorization"] = "Basic abc"
    answer = list_chats.handler(request, context("rest"))
    assert answer["statusCode"] == 401 and answer["headers"]["WWW-Authenticate"] == "Bearer"


def test_a_chat_is_created_listed_read_and_messaged_through_the_handlers(deployed, management):
    """POST /chats, GET /chats/{chatId}, sendMessage to the chat, the broadcaster (with its
    delivered receipt) and the inbox consumer on its stream record, then GET /chats shows it
    with one unread and the peer online; a read receipt, typing and the counts follow."""
    ada, ada_token = signed_up("ada")
    bob, bob_token = signed_up("bob")
    status, chat = authed(create_chat.handler, ada_token, {"type": "direct", "userId": bob})
    assert status == 201 and chat["peer"]["userId"] == bob
    path = {"pathParameters": {"chatId": chat["chatId"]}, "resource": "/chats/{chatId}"}
    status, detail = authed(get_chat.handler, bob_token, **path)
    assert status == 200 and {p["userId"] for p in detail["participants"]} == {ada, bob}
    connected(ada_token, "conn-ada=")
    connected(bob_token, "conn-bob=")
    ack = ws(
        send_message.handler,
        "conn-ada=",
        {"action": "sendMessage", "chatId": chat["chatId"], "message": "hi bob"},
    )
    assert ack["chatId"] == chat["chatId"] and ack["seq"] == 1, ack
    stream = chat_message_inserted(ack, ada, "ada", "hi bob")
    assert broadcaster.handler(stream, context("broadcaster")) == {"batchItemFailures": []}
    assert sorted(cid for cid, frame in management.posts if frame.get("type") == "message") == [
        "conn-ada=",
        "conn-bob=",
    ]
    delivered = [(c, f) for c, f in management.posts if f.get("type") == "receipt"]
    assert delivered == [("conn-ada=", receipt_frame(chat["chatId"], bob, delivered=1, read=0))]
    assert chat_inbox.handler(stream, context("chat_inbox")) == {"batchItemFailures": []}
    status, listing = authed(list_chats.handler, bob_token)
    assert status == 200 and listing["chats"][0]["unreadCount"] == 1, listing
    assert listing["chats"][0]["presence"] == {"online": True, "lastSeen": None}
    read = {"action": "receipt", "chatId": chat["chatId"], "kind": "read", "seq": 1}
    assert ws(receipt.handler, "conn-bob=", read)["moved"] is True
    assert management.posts[-1] == (
        "conn-ada=",
        receipt_frame(chat["chatId"], bob, delivered=1, read=1),
    )
    typing = {"action": "typing", "chatId": chat["chatId"], "state": "start"}
    assert ws(send_typing.handler, "conn-bob=", typing)["expiresInMs"] > 0
    assert ws(send_typing.handler, "conn-bob=", typing)["code"] == "RATE_LIMITED"
    assert [f["type"] for c, f in management.posts if c == "conn-ada="][-1] == "typing"
    status, body = authed(
        chat_receipts.handler, ada_token, queryStringParameters={"seq": "1"}, **path
    )
    assert status == 200 and body["counts"] == {"seq": 1, "delivered": 1, "read": 1, "of": 1}


def test_a_stale_last_connection_found_by_the_broadcaster_announces_its_user_offline(
    deployed, management, monkeypatch
):
    """Bob's only connection is gone without a $disconnect: the broadcaster's 410 for it removes
    it and tells Ada, his chat partner, that Bob is offline — as $disconnect would have."""
    monkeypatch.setattr(connections_module, "HANDSHAKE_GRACE_SECONDS", -1)  # both old enough
    ada, ada_token = signed_up("ada")
    bob, bob_token = signed_up("bob")
    status, chat = authed(create_chat.handler, ada_token, {"type": "direct", "userId": bob})
    assert status == 201
    connected(ada_token, "conn-ada=")
    connected(bob_token, "gone-bob=")  # the test server answers 410 for it
    ack = ws(
        send_message.handler,
        "conn-ada=",
        {"action": "sendMessage", "chatId": chat["chatId"], "message": "still there?"},
    )
    stream = chat_message_inserted(ack, ada, "ada", "still there?")
    assert broadcaster.handler(stream, context("broadcaster")) == {"batchItemFailures": []}
    told = [f for c, f in management.posts if c == "conn-ada=" and f["type"] == "presence"]
    assert told[-1]["userId"] == bob and told[-1]["online"] is False, told
    assert runtime.connections().connections_of([bob]) == {}


def test_a_stale_last_connection_found_by_a_fanout_shard_announces_its_user_offline(
    deployed, management, monkeypatch
):
    """The same in a large room's shard: the fan-out function's 410 for Bob's only connection
    removes it and tells Ada, his chat partner, that Bob is offline."""
    monkeypatch.setattr(connections_module, "HANDSHAKE_GRACE_SECONDS", -1)
    _, ada_token = signed_up("ada")
    bob, bob_token = signed_up("bob")
    assert authed(create_chat.handler, ada_token, {"type": "direct", "userId": bob})[0] == 201
    connected(ada_token, "conn-ada=")
    connected(bob_token, "gone-bob=")  # in general, as every connection; the server answers 410
    shard = {**event("fanout_shard"), "roomId": "general", "connectionIds": ["gone-bob="]}
    assert fanout_shard.handler(shard, context("fanout_shard"))["gone"] == 1
    told = [f for c, f in management.posts if c == "conn-ada=" and f["type"] == "presence"]
    assert told[-1]["userId"] == bob and told[-1]["online"] is False, told
    assert runtime.connections().connections_of([bob]) == {}


def test_a_room_receipt_moves_markers_tells_nobody_and_is_counted(deployed, management):
    """In a room, receipt (roomId, messageId, timestamp) answers the caller's markers and posts
    no frame; GET /rooms/{roomId}/receipts counts "read by K of N"; an outsider gets
    NOT_IN_ROOM (error frame, 403) and a message not in the room VALIDATION_ERROR."""
    users = {name: signed_up(name) for name in ("ada", "bob", "cy", "eve")}
    for name, (_, token) in users.items():
        connected(token, f"conn-{name}=")
        if name != "eve":
            ws(join_room.handler, f"conn-{name}=", {"action": "joinRoom", "roomId": "lab"})
    ack = ws(
        send_message.handler,
        "conn-ada=",
        {"action": "sendMessage", "roomId": "lab", "message": "m"},
    )
    at = {"messageId": ack["messageId"], "timestamp": ack["timestamp"]}
    posted = len(management.posts)
    read = {"action": "receipt", "roomId": "lab", "kind": "read", **at}
    answer = ws(receipt.handler, "conn-bob=", read)
    assert answer == {
        "type": "ack",
        "action": "receipt",
        "roomId": "lab",
        "kind": "read",
        **at,
        "delivered": at,
        "read": at,
        "moved": True,
    }
    assert ws(receipt.handler, "conn-bob=", read)["moved"] is False
    delivered = {**read, "kind": "delivered"}
    assert ws(receipt.handler, "conn-cy=", delivered)["moved"] is True
    assert len(management.posts) == posted, "rooms have no receipt frames"
    assert ws(receipt.handler, "conn-eve=", read)["code"] == "NOT_IN_ROOM"
    wrong = {**read, "timestamp": ack["timestamp"] + 1}
    refused = ws(receipt.handler, "conn-bob=", wrong)
    assert (refused["code"], refused["field"]) == ("VALIDATION_ERROR", "messageId")

    path = {"pathParameters": {"roomId": "lab"}, "resource": "/rooms/{roomId}/receipts"}
    query = {"messageId": at["messageId"], "timestamp": str(at["timestamp"])}
    status, body = authed(
        room_receipts.handler, users["ada"][1], queryStringParameters=query, **path
    )
    assert status == 200, body
    assert body == {
        "roomId": "lab",
        "members": 3,
        "live": False,
        "mine": {"delivered": None, "read": None},
        "counts": {**at, "delivered": 2, "read": 1, "of": 2},
    }
    status, body = authed(room_receipts.handler, users["eve"][1], **path)
    assert status == 403 and body["error"]["code"] == "NOT_IN_ROOM"
    status, body = authed(
        room_receipts.handler, users["ada"][1], queryStringParameters={"timestamp": "1"}, **path
    )
    assert status == 400 and body["error"]["field"] == "messageId"


def receipt_frame(chat_id: str, user_id: str, *, delivered: int, read: int) -> dict:
    return {"type": "receipt", "chatId": chat_id, "userId": user_id} | {
        "deliveredSeq": delivered,
        "readSeq": read,
    }


def test_bad_input_to_the_chat_handlers_gets_the_contracts_errors(deployed):
    """A direct chat with oneself, an unknown user, a foreign chat, a malformed id."""
    me, token = signed_up("ada")
    _, other_token = signed_up("eve")
    status, body = authed(create_chat.handler, token, {"type": "direct", "userId": me})
    assert (status, body["error"]["code"], body["error"]["field"]) == (
        400,
        "VALIDATION_ERROR",
        "userId",
    )
    status, body = authed(create_chat.handler, token, {"type": "direct", "userId": "nobody"})
    assert (status, body["error"]["code"]) == (404, "USER_NOT_FOUND")
    status, group = authed(
        create_chat.handler, other_token, {"type": "group", "name": "g", "participants": ["x"]}
    )
    assert status == 404, group
    for chat_id, code in (("g-unknown", "CHAT_NOT_FOUND"), ("bad id", "VALIDATION_ERROR")):
        status, body = authed(chat_messages.handler, token, pathParameters={"chatId": chat_id})
        assert body["error"]["code"] == code, body
