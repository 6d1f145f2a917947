"""The event and context objects API Gateway and Lambda hand to a handler. Pure code."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "LambdaContext",
    "new_connection_id",
    "rest_event",
    "route_key",
    "stream_event",
    "stream_record",
    "ws_event",
]

ACCOUNT_ID = "000000000000"
REGION = "us-east-1"


def route_key(body: str, routes: Collection[str]) -> str:
    """API Gateway's route selection on ``$request.body.action``: the frame's ``action`` when it
    is a JSON object whose action names a route (never a ``$`` route), else ``$default``."""
    try:
        frame = json.loads(body)
    except (ValueError, RecursionError):
        return "$default"
    action = frame.get("action") if isinstance(frame, dict) else None
    if isinstance(action, str) and action in routes and not action.startswith("$"):
        return action
    return "$default"


def new_connection_id() -> str:
    """An id shaped like API Gateway's (base64, ending in ``=``), so clients must URL-encode it."""
    return base64.b64encode(secrets.token_bytes(10)).decode("ascii").replace("/", "_")


def _request_time(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


Single = dict[str, str] | None
Multi = dict[str, list[str]] | None


def _multi(values: Mapping[str, list[str]]) -> tuple[Single, Multi]:
    if not values:
        return None, None
    return {k: v[-1] for k, v in values.items()}, {k: list(v) for k, v in values.items()}


def rest_event(
    *,
    method: str,
    resource: str,
    path: str,
    stage: str,
    headers: Mapping[str, list[str]],
    query: Mapping[str, list[str]],
    body: bytes,
    source_ip: str,
    domain_name: str,
    api_id: str,
    path_parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy integration event."""
    now = time.time()
    single_headers, multi_headers = _multi(headers)
    single_query, multi_query = _multi(query)
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api_id,
            "domainName": domain_name,
            "domainPrefix": api_id,
            "httpMethod": method,
            "identity": {
                "sourceIp": source_ip,
                "userAgent": (single_headers or {}).get("User-Agent"),
            },
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": _request_time(now),
            "requestTimeEpoch": int(now * 1000),
            "resourcePath": resource,
            "stage": stage,
        },
        "body": text if body else None,
        "isBase64Encoded": encoded,
    }


def ws_event(
    *,
    route_key: str,
    event_type: str,
    connection_id: str,
    connected_at: int,
    stage: str,
    domain_name: str,
    api_id: str,
    source_ip: str,
    user_agent: str | None,
    body: str | None = None,
    headers: Mapping[str, list[str]] | None = None,
    query: Mapping[str, list[str]] | None = None,
    disconnect_status: int | None = None,
    disconnect_reason: str | None = None,
) -> dict[str, Any]:
    """A WebSocket API Lambda proxy event (``CONNECT``, ``MESSAGE`` or ``DISCONNECT``)."""
    now = time.time()
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "messageDirection": "IN",
        "connectionId": connection_id,
        "connectedAt": connected_at,
        "requestId": str(uuid.uuid4()),
        "extendedRequestId": str(uuid.uuid4()),
        "requestTime": _request_time(now),
        "requestTimeEpoch": int(now * 1000),
        "stage": stage,
        "domainName": domain_name,
        "apiId": api_id,
        "identity": {"sourceIp": source_ip, "userAgent": user_agent},
    }
    if event_type == "MESSAGE":
        context["messageId"] = str(uuid.uuid4())
    if event_type == "DISCONNECT":
        context["disconnectStatusCode"] = disconnect_status
        context["disconnectReason"] = disconnect_reason or ""
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if event_type == "CONNECT":
        event["headers"], event["multiValueHeaders"] = _multi(headers or {})
        query_single, query_multi = _multi(query or {})
        event["queryStringParameters"] = query_single
        event["multiValueQueryStringParameters"] = query_multi
    if body is not None:
        event["body"] = body
    return event


def stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda's event source mapping delivers it.

    boto3 returns ``ApproximateCreationDateTime`` as a datetime (Lambda: epoch seconds), and
    the Streams API has no ``eventSourceARN`` (Lambda adds it).
    """
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn}


def stream_event(records: list[dict[str, Any]], stream_arn: str) -> dict[str, Any]:
    """The ``{"Records": [...]}`` event of one stream batch."""
    return {"Records": [stream_record(r, stream_arn) for r in records]}


@dataclass
class LambdaContext:
    """The context object the Lambda runtime passes to a handler."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        self.invoked_function_arn = (
            f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
