"""A fault-injecting HTTP proxy in front of the stage's DynamoDB (``chatstack up --faults``).

Every DynamoDB and DynamoDB Streams client of the stage — the functions' in every worker
process, the stream poller's — is pointed at it, so faults reach them exactly as AWS's errors
would, through botocore's own retries, with no hook in the handlers. It runs on a thread and
event loop of its own, so the stage's loop never waits on it. Until ``arm()`` (the stage has
started) it forwards everything.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import aiohttp
from aiohttp import web

from reference_stack.local.faults import DYNAMODB_ERRORS, FaultPlan
from reference_stack.local.logs import log_event

__all__ = ["FaultProxy"]

_HOP_BY_HOP = {
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
}


def operation_of(headers: Any) -> str:
    """``PutItem`` from ``X-Amz-Target: DynamoDB_20120810.PutItem``."""
    return str(headers.get("X-Amz-Target", "")).rpartition(".")[2]


def error_answer(error: str, operation: str) -> web.Response:
    """DynamoDB's JSON error answer, as botocore parses it."""
    status, code, message = DYNAMODB_ERRORS[error]
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code},
    )


class FaultProxy:
    """Forwards to ``upstream``; ``plan``'s ``dynamodb`` faults decide what goes wrong."""

    def __init__(self, upstream: str, plan: FaultPlan, host: str = "127.0.0.1") -> None:
        self.upstream = upstream.rstrip("/")
        self._plan = plan
        self._host = host
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy")
        self._armed_at: float | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> str:
        """Start listening on a free port; returns the proxy's URL."""
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        self.url = f"http://{self._host}:{port}"
        return self.url

    def arm(self) -> None:
        """Inject faults from now on; plan times count from here."""
        self._armed_at = time.monotonic()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> int:
        self._session = aiohttp.ClientSession(
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=60),
            connector=aiohttp.TCPConnector(limit=100),
        )
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        operation = operation_of(request.headers)
        fault = None
        if self._armed_at is not None:
            fault = self._plan.dynamodb(operation, time.monotonic() - self._armed_at)
        error = fault.spec["error"] if fault is not None else None
        if fault is not None:
            log_event("fault injected", **fault.describe(), operation=operation)
            if error != "timeout":
                return error_answer(error, operation)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        assert self._session is not None
        try:
            async with self._session.request(
                request.method, self.upstream + request.path_qs, data=body, headers=headers
            ) as answer:
                payload = await answer.read()
                status = answer.status
                kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
        except (aiohttp.ClientError, TimeoutError):  # DynamoDB itself is down (restarting)
            return error_answer("unavailable", operation)
        if error == "timeout":  # the call happened; its answer comes too late to be read
            assert fault is not None
            await asyncio.sleep(float(fault.spec.get("delay", 6.0)))
        return web.Response(status=status, body=payload, headers=kept)
