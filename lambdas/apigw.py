"""Shaping between API Gateway events and the domain: the decorators every handler uses."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdas import runtime
from lambdas.contract.errors import ChatError, InternalError, Unauthorized
from lambdas.contract.frames import encode, error_frame
from lambdas.contract.validation import parse_json_object
from lambdas.domain.tokens import Identity, verify_token
from lambdas.logs import add_keys, logger, with_context

__all__ = ["RestRequest", "authed_endpoint", "rest_endpoint", "rest_response", "ws_route"]

Event = dict[str, Any]
RestCall = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]
WsCall = Callable[[dict[str, Any], str], dict[str, Any]]


@dataclass(frozen=True)
class RestRequest:
    """An authenticated REST request: who calls, the path's ``{parameters}``, the query string
    and (for routes that take one) the JSON object body."""

    identity: Identity
    path: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]


AuthedCall = Callable[[RestRequest], tuple[int, dict[str, Any]]]


def rest_response(status: int, payload: dict[str, Any]) -> dict[str, Any]:
    """A REST proxy integration response with JSON and CORS headers."""
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            "Access-Control-Allow-Origin": runtime.settings().cors_origin,
        },
        "body": json.dumps(payload, ensure_ascii=False),
        "isBase64Encoded": False,
    }


def _body(event: Event) -> str | bytes | None:
    body = event.get("body")
    if body and event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body


def _answer(event: Event, compute: Callable[[], tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """``compute()``'s answer, or the contract's error answer for what it raised."""
    request_id = event.get("requestContext", {}).get("requestId")
    add_keys(api_request_id=request_id, path=event.get("resource"))
    try:
        status, payload = compute()
    except ChatError as error:
        if error.status >= 500:
            logger.exception("request failed")
        else:
            logger.info("request refused", extra={"code": error.code})
        status, payload = error.status, {"error": {**error.to_wire(), "requestId": request_id}}
    except Exception:
        logger.exception("unhandled error")
        error = InternalError()
        status, payload = 500, {"error": {**error.to_wire(), "requestId": request_id}}
    response = rest_response(status, payload)
    if status == 401:
        response["headers"]["WWW-Authenticate"] = "Bearer"
    return response


def rest_endpoint(call: RestCall) -> Callable[[Event, Any], dict[str, Any]]:
    """Turn ``call(body) -> (status, payload)`` into a REST proxy Lambda handler."""

    @functools.wraps(call)
    @with_context
    def handler(event: Event, context: Any) -> dict[str, Any]:
        return _answer(event, lambda: call(parse_json_object(_body(event))))

    return handler


def _bearer(event: Event) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (header names have any case)."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            raise Unauthorized("the Authorization header must be: Bearer <token>")
    raise Unauthorized("an Authorization: Bearer <token> header is required")


def authed_endpoint(*, body: bool) -> Callable[[AuthedCall], Callable[[Event, Any], dict]]:
    """Turn ``call(request) -> (status, payload)`` into a REST proxy Lambda handler that first
    checks the caller's ``Authorization: Bearer`` token (401 ``UNAUTHORIZED`` otherwise), then
    (``body=True``) parses a JSON object body."""

    def decorate(call: AuthedCall) -> Callable[[Event, Any], dict[str, Any]]:
        @functools.wraps(call)
        @with_context
        def handler(event: Event, context: Any) -> dict[str, Any]:
            def compute() -> tuple[int, dict[str, Any]]:
                identity = verify_token(_bearer(event), runtime.jwt_secret())
                add_keys(user_id=identity.user_id)
                request = RestRequest(
                    identity=identity,
                    path=dict(event.get("pathParameters") or {}),
                    query=dict(event.get("queryStringParameters") or {}),
                    body=parse_json_object(_body(event)) if body else {},
                )
                return call(request)

            return _answer(event, compute)

        return handler

    return decorate


def ws_route(action: str | None) -> Callable[[WsCall], Callable[[Event, Any], dict[str, Any]]]:
    """Turn ``call(frame, connection_id) -> frame`` into a WebSocket route Lambda handler.

    The returned frame (or an ``error`` frame) is the route response API Gateway sends back on
    the connection.
    """

    def decorate(call: WsCall) -> Callable[[Event, Any], dict[str, Any]]:
        @functools.wraps(call)
        @with_context
        def handler(event: Event, context: Any) -> dict[str, Any]:
            connection_id = event["requestContext"]["connectionId"]
            add_keys(
                connection_id=connection_id,
                api_request_id=event["requestContext"].get("requestId"),
                route=event["requestContext"].get("routeKey"),
            )
            try:
                frame = call(parse_json_object(event.get("body")), connection_id)
            except ChatError as error:
                if error.status >= 500:
                    logger.exception("frame failed")
                frame = error_frame(error, action)
            except Exception:
                logger.exception("unhandled error")
                frame = error_frame(InternalError(), action)
            return {"statusCode": 200, "body": encode(frame)}

        return handler

    return decorate
