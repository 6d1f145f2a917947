"""The REST API: routes from the stack definition (path templates with ``{parameters}``),
Lambda proxy events, CORS preflight.

Every answer is JSON with the CORS header, API Gateway's own included: a body over 10 MB is
413, a function error 502, an integration past 29 s 504, a fault of the stage itself 500. A
request body is passed to the function as sent — API Gateway decompresses nothing unless the
API enables content encoding, which this one does not — so a gzip-encoded body reaches the
function as bytes that are not JSON.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from reference_stack.definition import Stack
from reference_stack.local.events import rest_event
from reference_stack.local.invoker import InvocationFailed, Invoker
from reference_stack.local.logs import log_event
from reference_stack.local.rest_routes import RestRoutes

__all__ = ["build_rest_app"]

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway REST payload limit
API_ID = "localrest"


def _gateway_answer(status: int, message: str, cors_origin: str) -> web.Response:
    """An answer API Gateway gives itself, without calling a function."""
    return web.json_response(
        {"message": message},
        status=status,
        headers={"Access-Control-Allow-Origin": cors_origin, "x-amzn-ErrorType": "Gateway"},
    )


def _proxy_response(result: Any) -> web.Response:
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        raise InvocationFailed("malformed Lambda proxy response")
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    response = web.Response(status=result["statusCode"], body=raw)
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    return response


def build_rest_app(
    stack: Stack,
    invoker: Invoker,
    stage: str,
    cors_origin: str,
    integration_timeout: float = 29.0,
    on_invoked: Callable[[], None] | None = None,
) -> web.Application:
    """An aiohttp application serving ``/{stage}/…`` like an API Gateway REST API;
    ``on_invoked`` is called after each function ran (it may have written to a stream)."""
    routes = RestRoutes(stack.rest_routes)

    async def dispatch(request: web.Request) -> web.StreamResponse:
        prefix = f"/{stage}"
        raw_path = request.raw_path.split("?", 1)[0]
        if not raw_path.startswith(prefix + "/"):
            return _gateway_answer(403, "Forbidden", cors_origin)
        path = request.path[len(prefix) :]
        found = routes.match(raw_path[len(prefix) :])
        if request.method == "OPTIONS" and found is not None:
            return web.Response(
                status=204,
                headers={
                    "Access-Control-Allow-Origin": cors_origin,
                    "Access-Control-Allow-Methods": ",".join(["OPTIONS", *sorted(found.functions)]),
                    "Access-Control-Allow-Headers": "Content-Type,Authorization",
                    "Access-Control-Max-Age": "600",
                },
            )
        function = found.functions.get(request.method) if found is not None else None
        if function is None or found is None:
            return _gateway_answer(403, "Missing Authentication Token", cors_origin)
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers.setdefault(name, []).append(value)
        query: dict[str, list[str]] = {}
        for name, value in request.query.items():
            query.setdefault(name, []).append(value)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _gateway_answer(413, "Request Too Long", cors_origin)
        event = rest_event(
            method=request.method,
            resource=found.template,
            path=path,
            path_parameters=found.parameters,
            stage=stage,
            headers=headers,
            query=query,
            body=body,
            source_ip=request.remote or "127.0.0.1",
            domain_name=request.host,
            api_id=API_ID,
        )
        try:
            async with asyncio.timeout(integration_timeout):
                return _proxy_response(await invoker.invoke(function, event))
        except InvocationFailed as failure:
            log_event("integration failed", logging.ERROR, function=function, error=str(failure))
            return _gateway_answer(502, "Internal server error", cors_origin)
        except TimeoutError:
            log_event("integration timed out", logging.ERROR, function=function)
            return _gateway_answer(504, "Endpoint request timed out", cors_origin)
        finally:
            if on_invoked is not None:
                on_invoked()

    @web.middleware
    async def always_json(request: web.Request, handler: Any) -> web.StreamResponse:
        """A fault of the stage itself is still answered as API Gateway would: JSON, CORS."""
        try:
            return await handler(request)
        except web.HTTPException as exc:
            return _gateway_answer(exc.status, exc.reason, cors_origin)
        except Exception:
            log_event("REST request failed in the stage", logging.ERROR, exc_info=True)
            return _gateway_answer(500, "Internal server error", cors_origin)

    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[always_json],
        handler_args={"auto_decompress": False},  # bodies reach the function as sent
    )
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app
