"""Lambda's ``Invoke`` API for the stack's functions, on a loopback port of the local stage.

Handlers reach it with a plain boto3 ``lambda`` client (``AWS_ENDPOINT_URL_LAMBDA`` points
there), exactly as on AWS. ``InvocationType``:

- ``Event``: 202 at once; the function runs in the stage's worker pool. A function error is
  retried ``maximum_retry_attempts`` times (stack.json ``async_invoke``; AWS waits 1 then
  2 minutes, here ``retry_delay`` seconds, doubling); after the last one the event goes to the
  on-failure destination — here an ERROR log line carrying it. An invocation whose sandbox died
  or was ended at its timeout is retried no sooner than that timeout after it began, as on
  Lambda (whose first retry waits a minute): whatever it held — a shard claim's lease — has
  run out by then, so the retry can finish its work.
- ``RequestResponse`` (default): 200 with the function's result, ``X-Amz-Function-Error`` when
  it failed. ``DryRun``: 204.

Unknown functions answer 404 ``ResourceNotFoundException``, a payload that is not JSON 400
``InvalidRequestContentException``, as Lambda does.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

from reference_stack.definition import Stack
from reference_stack.local.invoker import FunctionCrashed, InvocationFailed, Invoker
from reference_stack.local.logs import log_event

__all__ = ["LambdaApi"]

DEFAULT_ASYNC_RETRIES = 2  # Lambda's default for asynchronous invocations


def _error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response(
        {"Type": "User", "message": message},
        status=status,
        headers={"x-amzn-ErrorType": error_type},
    )


class LambdaApi:
    """Invokes the stack's functions by name or ARN (``{prefix}-{function}``)."""

    def __init__(
        self, stack: Stack, invoker: Invoker, prefix: str, retry_delay: float = 1.0
    ) -> None:
        self._stack = stack
        self._invoker = invoker
        self._prefix = prefix
        self._retry_delay = retry_delay
        self._tasks: set[asyncio.Task[None]] = set()
        self.dead_letters: list[dict[str, Any]] = []

    def _resolve(self, name: str) -> str | None:
        name = name.rsplit(":function:", 1)[-1].split(":", 1)[0]  # an ARN, maybe qualified
        function = name.removeprefix(f"{self._prefix}-")
        return function if function != name and function in self._stack.functions else None

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=6 * 1024 * 1024)  # Lambda's payload limit
        app.router.add_post("/2015-03-31/functions/{name}/invocations", self._invoke)
        app.on_shutdown.append(self._cancel_pending)
        return app

    async def _invoke(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        function = self._resolve(name)
        if function is None:
            return _error(404, "ResourceNotFoundException", f"Function not found: {name}")
        body = await request.read()
        try:
            event = json.loads(body) if body else {}
        except (ValueError, RecursionError):
            return _error(400, "InvalidRequestContentException", "Could not parse request body")
        kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind == "DryRun":
            return web.Response(status=204)
        if kind == "Event":
            task = asyncio.create_task(self._run_async(function, event))
            self._tasks.add(task)
            task.add_done_callback(self._done)
            return web.Response(status=202)
        if kind != "RequestResponse":
            return _error(400, "InvalidParameterValueException", f"bad invocation type {kind}")
        try:
            result = await self._invoker.invoke(function, event)
        except InvocationFailed as exc:
            return web.json_response(
                {"errorMessage": str(exc), "errorType": "Unhandled"},
                headers={"X-Amz-Function-Error": "Unhandled"},
            )
        return web.json_response(result)

    def _done(self, task: asyncio.Task[None]) -> None:
        """No asynchronous invocation ends unnoticed."""
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log_event(
                "async invocation task failed",
                logging.ERROR,
                exc_info=False,
                error=repr(task.exception()),
            )

    async def _run_async(self, function: str, event: Any) -> None:
        spec = self._stack.functions[function]
        retries = (spec.async_invoke or {}).get("maximum_retry_attempts", DEFAULT_ASYNC_RETRIES)
        error, wait = "", 0.0
        for attempt in range(retries + 1):
            if attempt:
                await asyncio.sleep(max(wait, self._retry_delay * 2 ** (attempt - 1)))
            try:
                await self._invoker.invoke(function, event)
                return
            except FunctionCrashed as exc:
                error, wait = str(exc), spec.timeout_s - exc.ran_for
            except InvocationFailed as exc:
                error, wait = str(exc), 0.0
            except Exception as exc:  # a fault of the stage itself: logged, and retried
                log_event("async invocation failed", logging.ERROR, exc_info=True)
                error, wait = repr(exc), 0.0
        entry = {"function": function, "attempts": retries + 1, "error": error, "event": event}
        self.dead_letters.append(entry)
        log_event(
            "async invocation failed: event sent to the on-failure destination",
            logging.ERROR,
            **entry,
        )

    async def _cancel_pending(self, _app: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
