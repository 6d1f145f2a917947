"""``@connections/{id}``, API Gateway's management API: POST sends a frame to the client, GET
describes the connection, DELETE closes it.

Answers as API Gateway does: no SigV4 ``Authorization`` → 403 ``ForbiddenException``; an
unknown or closed connection → 410 ``GoneException``; a body over the message limit → 413
``PayloadTooLargeException``.

It is served twice, with the same answers: on the WebSocket API's port (the URL AWS gives it,
for tools and tests), and on a port of its own by a minimal HTTP/1.1 keep-alive server
(``serve``) — the one the stage hands its functions as ``CHATSTACK_MANAGEMENT_URL``. A message
to a 1,000-member room is 1,000 POSTs on the stage's one event loop, and aiohttp's web
framework spends about 57 µs of CPU on each where this server spends about 26
(``benchmarks/management_cpu.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from reference_stack.local.fault_runner import FaultRunner, connection_fault_effect
from reference_stack.local.websocket_api import WebSocketApi

__all__ = ["Answer", "ManagementApi"]

MAX_HEAD_BYTES = 16 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    payload: dict | None = None
    error_type: str | None = None

    def body(self) -> bytes:
        return b"" if self.payload is None else json.dumps(self.payload).encode("utf-8")


def _error(status: int, error_type: str, message: str) -> Answer:
    return Answer(status, {"message": message}, error_type)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


class ManagementApi:
    """The answers of ``@connections``, over the WebSocket API's open connections."""

    def __init__(
        self, websocket: WebSocketApi, stage: str, faults: FaultRunner | None = None
    ) -> None:
        self._ws = websocket
        self._prefix = f"/{stage}/@connections/"
        self._open: set[asyncio.StreamWriter] = set()
        self._faults = faults

    async def answer(
        self, method: str, connection_id: str, authorization: str, body: bytes
    ) -> Answer:
        if not authorization.startswith("AWS4-HMAC-SHA256"):
            return _error(403, "ForbiddenException", "Missing Authentication Token")
        connection = self._ws.connections.get(connection_id)
        if connection is None or connection.socket.closed or connection.close_code is not None:
            return _error(410, "GoneException", "Gone")
        if method == "POST":
            if len(body) > self._ws.max_message_bytes:
                return _error(413, "PayloadTooLargeException", "Request entity too large")
            try:
                data: str | bytes = body.decode("utf-8")
            except UnicodeDecodeError:
                data = body
            if not await self._ws.send(connection, data):
                return _error(410, "GoneException", "Gone")
            return Answer(200)
        if method == "GET":
            idle = time.monotonic() - connection.last_active
            return Answer(
                200,
                {
                    "connectedAt": _iso(connection.connected_at),
                    "identity": {
                        "sourceIp": connection.source_ip,
                        "userAgent": connection.user_agent,
                    },
                    "lastActiveAt": _iso(time.time() - idle),
                },
            )
        if method == "DELETE":
            await self._ws.close(connection, 1000, "Connection deleted")
            return Answer(204)
        return _error(405, "MethodNotAllowedException", f"{method} is not allowed")

    # -- on the WebSocket API's port (aiohttp) -------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        path = self._prefix + "{connection_id}"
        for method in ("POST", "GET", "DELETE"):
            app.router.add_route(method, path, self._aiohttp)

    async def _aiohttp(self, request: web.Request) -> web.Response:
        body = await request.read() if request.method == "POST" else b""
        answer = await self.answer(
            request.method,
            request.match_info["connection_id"],
            request.headers.get("Authorization", ""),
            body,
        )
        headers = {"x-amzn-ErrorType": answer.error_type} if answer.error_type else {}
        if answer.payload is None:
            return web.Response(status=answer.status, headers=headers)
        return web.json_response(answer.payload, status=answer.status, headers=headers)

    # -- on a port of its own (minimal HTTP/1.1) -----------------------------------------------

    async def serve(self, host: str, port: int) -> asyncio.Server:
        """Start the minimal server; stop it with ``stop``."""
        self._server = await asyncio.start_server(self._exchange, host, port, limit=MAX_HEAD_BYTES)
        return self._server

    async def stop(self) -> None:
        """Stop listening and close the kept-alive connections (their handlers then end)."""
        self._server.close()
        for writer in list(self._open):
            writer.close()
        while self._open:
            await asyncio.sleep(0.01)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                try:
                    while await self._one(reader, writer):
                        pass
                except (asyncio.LimitOverrunError, ValueError):
                    answer = _error(431, "BadRequestException", "Header too large")
                    writer.write(_response(answer))
                await writer.drain()
            writer.close()
        finally:
            self._open.discard(writer)

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; whether the connection stays open for another."""
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            writer.write(_response(_error(400, "BadRequestException", "Malformed request")))
            return False
        method, target, version = parts
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            writer.write(_response(_error(411, "BadRequestException", "Length Required")))
            return False
        length = int(headers.get("content-length") or 0)
        if not 0 <= length <= self._ws.max_message_bytes:
            answer = _error(413, "PayloadTooLargeException", "Request entity too large")
            writer.write(_response(answer))
            return False  # the body is not read: this connection cannot be reused
        body = await reader.readexactly(length) if length else b""
        path = target.split("?", 1)[0]
        if not path.startswith(self._prefix) or "/" in path[len(self._prefix) :]:
            answer = _error(404, "NotFoundException", "Not Found")
        else:
            connection_id = unquote(path[len(self._prefix) :])
            authorization = headers.get("authorization", "")
            fault = self._faults.on_post() if self._faults and method == "POST" else None
            if fault is not None:
                return await self._faulty(fault, writer, connection_id, authorization, body)
            answer = await self.answer(method, connection_id, authorization, body)
        writer.write(_response(answer, keep_alive))
        return keep_alive

    async def _faulty(
        self,
        fault: Any,
        writer: asyncio.StreamWriter,
        connection_id: str,
        authorization: str,
        body: bytes,
    ) -> bool:
        """Answer a POST as the fault plan says (``faults.py``); False: close the connection."""
        effect = connection_fault_effect(fault)
        if effect["delay"]:
            await asyncio.sleep(effect["delay"])
        answer = Answer(200)
        if effect["deliver"]:
            answer = await self.answer("POST", connection_id, authorization, body)
        kind = effect["answer"]
        if kind == "malformed":
            writer.write(b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n")
            return False
        if kind == 410:  # the stage loses the connection, as a gateway node might
            connection = self._ws.connections.get(connection_id)
            if connection is not None:
                await self._ws.close(connection, 1011, "Connection lost")
            answer = _error(410, "GoneException", "Gone")
        elif kind == 429:
            answer = _error(429, "LimitExceededException", "Too many requests")
        elif kind is not None:
            answer = _error(int(kind), "InternalServerErrorException", "Internal server error")
        writer.write(_response(answer, keep_alive=False))
        return False


def _response(answer: Answer, keep_alive: bool = False) -> bytes:
    body = answer.body()
    head = [
        f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}",
        f"Content-Length: {len(body)}",
        "Connection: keep-alive" if keep_alive else "Connection: close",
    ]
    if answer.payload is not None:
        head.append("Content-Type: application/json")
    if answer.error_type:
        head.append(f"x-amzn-ErrorType: {answer.error_type}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
