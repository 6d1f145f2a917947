"""Deliberately broken handlers. Each keeps the real code but for one defect, which the
conformance suite must catch (tests/conformance_variants/test_broken_stages.py)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

from lambdas import runtime
from lambdas.domain.fanout import ConnectionGone, OneAtATime, process_stream_batch
from lambdas.domain.tokens import Identity, verify_token
from lambdas.handlers import get_messages, signup

Event = dict[str, Any]


def _all_connections(room_id: str) -> list[str]:
    """Every open connection, whatever the room (the defect: a scan instead of the room)."""
    items = boto3.client("dynamodb").scan(
        TableName=os.environ["CHATSTACK_CONNECTIONS_TABLE"],
        FilterExpression="sk = :meta",
        ExpressionAttributeValues={":meta": {"S": "meta"}},
    )["Items"]
    return [item["connectionId"]["S"] for item in items]


def leaky_broadcaster(event: Event, context: Any) -> dict[str, Any]:
    """Broadcasts every message to every connection, across rooms."""
    store = runtime.connections()
    report = process_stream_batch(
        event["Records"], _all_connections, runtime.poster(), store.remove
    )
    return report.to_response()


class _GiveUpPoster(OneAtATime):
    """Stops delivering (silently) after the first connection that is gone."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._gave_up = False

    def post(self, connection_id: str, data: bytes) -> None:
        if self._gave_up:
            return
        try:
            self._inner.post(connection_id, data)
        except ConnectionGone:
            self._gave_up = True
            raise


def give_up_broadcaster(event: Event, context: Any) -> dict[str, Any]:
    """Stops fanning out a batch at the first 410 Gone."""
    store = runtime.connections()
    report = process_stream_batch(
        event["Records"], store.members, _GiveUpPoster(runtime.poster()), store.remove
    )
    return report.to_response()


def trusting_connect(event: Event, context: Any) -> dict[str, Any]:
    """Accepts any token: a bad one connects as an anonymous user."""
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        identity = verify_token(token, runtime.jwt_secret())
    except Exception:
        identity = Identity("anonymous", "anonymous", "anonymous@example.test")
    runtime.connections().add(event["requestContext"]["connectionId"], identity)
    return {"statusCode": 200}


def newest_first_history(event: Event, context: Any) -> dict[str, Any]:
    """Answers history pages newest first."""
    result = get_messages.handler(event, context)
    frame = json.loads(result["body"])
    if frame.get("type") == "messages":
        frame["messages"].reverse()
    return {**result, "body": json.dumps(frame)}


def hash_returning_signup(event: Event, context: Any) -> dict[str, Any]:
    """Answers a signup with the stored password hash."""
    result = signup.handler(event, context)
    if result["statusCode"] == 201:
        body = json.loads(result["body"])
        _, password_hash = runtime.users().find_by_email(body["email"])
        body["passwordHash"] = password_hash
        result = {**result, "body": json.dumps(body)}
    return result
