"""Shapes of the Lambda events the local stage builds (reference_stack/local/events.py)."""

from __future__ import annotations

import base64
import copy
import re
import time
import uuid
from datetime import UTC, datetime

import pytest

from reference_stack.local.events import (
    LambdaContext,
    new_connection_id,
    rest_event,
    stream_event,
    stream_record,
    ws_event,
)

STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"


def make_rest(**overrides):
    kwargs = {
        "method": "POST",
        "resource": "/signup",
        "path": "/signup",
        "stage": "dev",
        "headers": {"Content-Type": ["application/json"], "User-Agent": ["pytest/1"]},
        "query": {},
        "body": b'{"email": "a@b.co"}',
        "source_ip": "127.0.0.1",
        "domain_name": "127.0.0.1:8000",
        "api_id": "localapi",
    }
    kwargs.update(overrides)
    return rest_event(**kwargs)


def make_ws(**overrides):
    kwargs = {
        "route_key": "sendMessage",
        "event_type": "MESSAGE",
        "connection_id": "abc=",
        "connected_at": 1_700_000_000_000,
        "stage": "dev",
        "domain_name": "127.0.0.1:8001",
        "api_id": "wsapi",
        "source_ip": "127.0.0.1",
        "user_agent": "pytest/1",
    }
    kwargs.update(overrides)
    return ws_event(**kwargs)


# --- rest_event ----------------------------------------------------------------------------------


def test_rest_event_has_the_proxy_integration_shape():
    """A REST v1 proxy event carries method, paths, headers, body and a request context."""
    before_ms = int(time.time() * 1000)
    event = make_rest()
    assert event["httpMethod"] == "POST"
    assert event["resource"] == "/signup"
    assert event["path"] == "/signup"
    assert event["headers"] == {"Content-Type": "application/json", "User-Agent": "pytest/1"}
    assert event["multiValueHeaders"] == {
        "Content-Type": ["application/json"],
        "User-Agent": ["pytest/1"],
    }
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] == '{"email": "a@b.co"}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "dev"
    assert context["path"] == "/dev/signup"
    assert context["resourcePath"] == "/signup"
    assert context["httpMethod"] == "POST"
    assert context["apiId"] == "localapi"
    assert context["domainName"] == "127.0.0.1:8000"
    assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "pytest/1"}
    assert uuid.UUID(context["requestId"])
    assert before_ms <= context["requestTimeEpoch"] <= int(time.time() * 1000)
    assert re.fullmatch(
        r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", context["requestTime"]
    )


def test_rest_event_keeps_the_last_value_of_a_repeated_header_or_query_parameter():
    """Single-value maps take the last value; multi-value maps keep all of them."""
    event = make_rest(headers={"X-A": ["1", "2"]}, query={"q": ["x", "y"]})
    assert event["headers"] == {"X-A": "2"}
    assert event["multiValueHeaders"] == {"X-A": ["1", "2"]}
    assert event["queryStringParameters"] == {"q": "y"}
    assert event["multiValueQueryStringParameters"] == {"q": ["x", "y"]}


def test_rest_event_without_body_has_body_null():
    """An empty request body becomes body null."""
    event = make_rest(body=b"")
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_rest_event_base64_encodes_a_body_that_is_not_utf8():
    """Binary bodies are passed base64-encoded with isBase64Encoded true."""
    raw = b"\xff\xfe\x00binary"
    event = make_rest(body=raw)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_rest_event_request_ids_are_unique():
    """Two events never share a requestId."""
    assert make_rest()["requestContext"]["requestId"] != make_rest()["requestContext"]["requestId"]


# --- ws_event ------------------------------------------------------------------------------------


def test_ws_message_event_has_the_route_context_and_body():
    """A MESSAGE event carries the route, connection, a messageId and the frame as body."""
    event = make_ws(body='{"action":"sendMessage"}')
    context = event["requestContext"]
    assert context["routeKey"] == "sendMessage"
    assert context["eventType"] == "MESSAGE"
    assert context["messageDirection"] == "IN"
    assert context["connectionId"] == "abc="
    assert context["connectedAt"] == 1_700_000_000_000
    assert context["stage"] == "dev"
    assert context["domainName"] == "127.0.0.1:8001"
    assert context["apiId"] == "wsapi"
    assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "pytest/1"}
    assert uuid.UUID(context["messageId"])
    assert uuid.UUID(context["requestId"])
    assert event["body"] == '{"action":"sendMessage"}'
    assert event["isBase64Encoded"] is False
    assert "headers" not in event
    assert "disconnectStatusCode" not in context


def test_ws_connect_event_has_headers_and_query_but_no_message_id():
    """A CONNECT event carries headers and the ?token= query string."""
    event = make_ws(
        route_key="$connect",
        event_type="CONNECT",
        headers={"Host": ["127.0.0.1:8001"]},
        query={"token": ["t1", "t2"]},
    )
    assert event["headers"] == {"Host": "127.0.0.1:8001"}
    assert event["multiValueHeaders"] == {"Host": ["127.0.0.1:8001"]}
    assert event["queryStringParameters"] == {"token": "t2"}
    assert event["multiValueQueryStringParameters"] == {"token": ["t1", "t2"]}
    assert "messageId" not in event["requestContext"]
    assert "body" not in event


def test_ws_connect_event_without_query_has_null_parameters():
    """A CONNECT without a query string has queryStringParameters null."""
    event = make_ws(route_key="$connect", event_type="CONNECT")
    assert event["queryStringParameters"] is None
    assert event["headers"] is None


def test_ws_disconnect_event_has_status_and_reason():
    """A DISCONNECT event carries the close status and reason ("" when none)."""
    event = make_ws(route_key="$disconnect", event_type="DISCONNECT", disconnect_status=1001)
    context = event["requestContext"]
    assert context["disconnectStatusCode"] == 1001
    assert context["disconnectReason"] == ""
    assert "messageId" not in context
    reason = make_ws(event_type="DISCONNECT", disconnect_status=1000, disconnect_reason="bye")
    assert reason["requestContext"]["disconnectReason"] == "bye"


# --- stream_record / stream_event ----------------------------------------------------------------


def boto_record(created) -> dict:
    return {
        "eventID": "e1",
        "eventName": "INSERT",
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": created,
            "Keys": {"pk": {"S": "room#r"}, "sk": {"S": "x"}},
            "NewImage": {"pk": {"S": "room#r"}},
            "SequenceNumber": "000001",
            "SizeBytes": 10,
            "StreamViewType": "NEW_IMAGE",
        },
    }


def test_stream_record_converts_the_creation_datetime_to_epoch_seconds():
    """A boto3 datetime becomes the epoch-seconds float Lambda delivers."""
    created = datetime(2024, 5, 1, 12, 30, 15, 500000, tzinfo=UTC)
    converted = stream_record(boto_record(created), STREAM_ARN)
    value = converted["dynamodb"]["ApproximateCreationDateTime"]
    assert isinstance(value, float)
    assert value == pytest.approx(1714566615.5)


def test_stream_record_adds_the_event_source_arn_and_keeps_the_rest():
    """eventSourceARN is added; every other field of the record is kept."""
    original = boto_record(datetime(2024, 1, 1, tzinfo=UTC))
    converted = stream_record(original, STREAM_ARN)
    assert converted["eventSourceARN"] == STREAM_ARN
    for key in ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion"):
        assert converted[key] == original[key]
    for key in ("Keys", "NewImage", "SequenceNumber", "SizeBytes", "StreamViewType"):
        assert converted["dynamodb"][key] == original["dynamodb"][key]


def test_stream_record_does_not_modify_the_record_it_was_given():
    """The boto3 record is left as it was (the poller may retry it)."""
    original = boto_record(datetime(2024, 1, 1, tzinfo=UTC))
    snapshot = copy.deepcopy(original)
    stream_record(original, STREAM_ARN)
    assert original == snapshot


def test_stream_record_keeps_a_numeric_creation_time():
    """A creation time that is already a number is left unchanged."""
    converted = stream_record(boto_record(1714566615.5), STREAM_ARN)
    assert converted["dynamodb"]["ApproximateCreationDateTime"] == 1714566615.5


def test_stream_event_wraps_every_record_in_order():
    """A batch is {"Records": [...]} with each record converted, in order."""
    first, second = boto_record(datetime(2024, 1, 1, tzinfo=UTC)), boto_record(1.0)
    second["dynamodb"]["SequenceNumber"] = "000002"
    event = stream_event([first, second], STREAM_ARN)
    assert [r["dynamodb"]["SequenceNumber"] for r in event["Records"]] == ["000001", "000002"]
    assert all(r["eventSourceARN"] == STREAM_ARN for r in event["Records"])
    assert isinstance(event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"], float)


# --- new_connection_id / LambdaContext -----------------------------------------------------------


def test_new_connection_id_is_shaped_like_api_gateways():
    """Ids are 16 base64 characters ending in '=', never containing '/'."""
    ids = {new_connection_id() for _ in range(200)}
    assert len(ids) == 200
    for connection_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9+_]{14}==", connection_id), connection_id
        assert "/" not in connection_id


def test_lambda_context_names_the_function_and_counts_down():
    """The context has Lambda's names and a remaining time within its timeout."""
    context = LambdaContext(
        function_name="chatstack-dev-signup", memory_limit_in_mb=1024, timeout_s=10
    )
    assert context.invoked_function_arn == (
        "arn:aws:lambda:us-east-1:000000000000:function:chatstack-dev-signup"
    )
    assert context.log_group_name == "/aws/lambda/chatstack-dev-signup"
    assert uuid.UUID(context.aws_request_id)
    assert 9000 < context.get_remaining_time_in_millis() <= 10000
    expired = LambdaContext(function_name="f", memory_limit_in_mb=128, timeout_s=0)
    assert expired.get_remaining_time_in_millis() == 0
