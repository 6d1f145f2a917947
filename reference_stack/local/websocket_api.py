"""The WebSocket API: handshake through ``$connect``, route selection, limits, ``@connections``.

API Gateway's behaviour, as emulated here:

- ``$connect`` runs before the handshake completes; a non-2xx answer refuses it with that status.
- Each frame is routed on ``$request.body.action``; frames that are not JSON objects, or whose
  action has no route, go to ``$default``. A route's response body is sent back on the connection.
- A frame over 32 KB, or a message (its frames reassembled) over 128 KB, closes the connection
  with 1009; an idle connection (no frame from the client for the idle timeout) or one older
  than the maximum duration is closed with 1001.
- ``$disconnect`` runs once after every close, whoever closed.
- A slow consumer is cut off, as API Gateway drops a client that does not read: a POST to
  ``@connections`` never waits for the client (the frame is buffered and the POST answered),
  and a connection with more than ``max_unread_bytes`` buffered unread is dropped (the POST
  answers 410). The stage pings every ``heartbeat`` seconds and drops a peer that does not
  answer (a dead or stuck client).
- ``@connections/{id}`` (``management_api.py``) on the same port: POST sends a frame, GET
  describes the connection, DELETE closes it; an unknown id — or one whose handshake has not
  completed yet, ``$connect`` still running — answers 410 ``GoneException``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import struct
import termios
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from reference_stack.definition import Stack
from reference_stack.local.events import new_connection_id, ws_event
from reference_stack.local.events import route_key as select_route
from reference_stack.local.frame_limit import FrameSizeLimit
from reference_stack.local.invoker import InvocationFailed, Invoker
from reference_stack.local.logs import log_event

__all__ = ["Connection", "WebSocketApi"]

API_ID = "localws"
GOING_AWAY = 1001


@dataclass
class Connection:
    connection_id: str
    socket: web.WebSocketResponse
    connected_at: float
    source_ip: str
    user_agent: str | None
    last_active: float = field(default_factory=time.monotonic)
    started: float = field(default_factory=time.monotonic)
    close_code: int | None = None
    close_reason: str = ""
    transport: Any = None


class WebSocketApi:
    """The WebSocket API over an ``Invoker``; ``connections`` are what ``@connections`` reaches."""

    def __init__(
        self,
        stack: Stack,
        invoker: Invoker,
        *,
        stage: str,
        max_message_bytes: int,
        max_frame_bytes: int,
        idle_timeout: float,
        max_connection_duration: float,
        disconnect_delay: float = 0.0,
        on_invoked: Any = None,
        max_unread_bytes: int = 1024 * 1024,
        send_wait: float = 0.5,
        heartbeat: float | None = 30.0,
    ) -> None:
        self._routes = stack.websocket_routes
        self._invoker = invoker
        self._stage = stage
        self.max_message_bytes = max_message_bytes
        self.max_frame_bytes = max_frame_bytes
        self._idle_timeout = idle_timeout
        self._max_duration = max_connection_duration
        self._disconnect_delay = disconnect_delay
        self._on_invoked = on_invoked or (lambda: None)
        self.max_unread_bytes = max_unread_bytes
        self._send_wait = send_wait
        self._heartbeat = heartbeat
        self.connections: dict[str, Connection] = {}
        self._reaper: asyncio.Task[None] | None = None

    # -- application ---------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_message_bytes + 1024)
        stage = self._stage
        app.router.add_get(f"/{stage}", self._handshake)
        app.router.add_get(f"/{stage}/", self._handshake)
        app.on_startup.append(self._start_reaper)
        app.on_shutdown.append(self._close_all)
        return app

    def _event(self, connection: Connection, request: web.Request | None, **kwargs: Any) -> dict:
        host = request.host if request is not None else "localhost"
        return ws_event(
            connection_id=connection.connection_id,
            connected_at=int(connection.connected_at * 1000),
            stage=self._stage,
            domain_name=host,
            api_id=API_ID,
            source_ip=connection.source_ip,
            user_agent=connection.user_agent,
            **kwargs,
        )

    # -- connections ---------------------------------------------------------------------------

    async def _handshake(self, request: web.Request) -> web.StreamResponse:
        socket = _FrameLimitedResponse(
            self.max_frame_bytes,
            max_msg_size=self.max_message_bytes,
            compress=False,
            autoping=True,
            heartbeat=self._heartbeat,
        )
        if not socket.can_prepare(request).ok:
            return web.Response(status=426, text="Upgrade Required")
        connection = Connection(
            connection_id=new_connection_id(),
            socket=socket,
            connected_at=time.time(),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent"),
            transport=request.transport,
        )
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers.setdefault(name, []).append(value)
        query: dict[str, list[str]] = {}
        for name, value in request.query.items():
            query.setdefault(name, []).append(value)
        event = self._event(
            connection,
            request,
            route_key="$connect",
            event_type="CONNECT",
            headers=headers,
            query=query,
        )
        try:
            result = await self._invoker.invoke(self._routes["$connect"], event)
        except InvocationFailed:
            return web.json_response({"message": "Internal server error"}, status=500)
        status = result.get("statusCode", 200) if isinstance(result, dict) else 200
        if not 200 <= int(status) < 300:
            body = result.get("body") if isinstance(result, dict) else None
            return web.Response(
                status=int(status), text=body or "", content_type="application/json"
            )
        try:
            await socket.prepare(request)
            # Only now can @connections reach it: until the handshake completes it answers 410
            # for this id, as API Gateway does (although $connect has stored the connection).
            self.connections[connection.connection_id] = connection
            await self._receive(connection, request)
        finally:
            self.connections.pop(connection.connection_id, None)
            await self._disconnected(connection, request)
        return socket

    async def _receive(self, connection: Connection, request: web.Request) -> None:
        socket = connection.socket
        async for frame in socket:
            if frame.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                connection.last_active = time.monotonic()
                body = (
                    frame.data
                    if frame.type == WSMsgType.TEXT
                    else frame.data.decode("utf-8", "replace")
                )
                await self._route(connection, request, body)
            elif frame.type == WSMsgType.ERROR:
                break
        if connection.close_code is None:
            connection.close_code = socket.close_code or 1005

    async def _route(self, connection: Connection, request: web.Request, body: str) -> None:
        route_key = select_route(body, self._routes)
        event = self._event(
            connection, request, route_key=route_key, event_type="MESSAGE", body=body
        )
        try:
            result = await self._invoker.invoke(self._routes[route_key], event)
        except InvocationFailed:
            result = {
                "body": json.dumps(
                    {
                        "message": "Internal server error",
                        "connectionId": connection.connection_id,
                        "requestId": event["requestContext"]["requestId"],
                    }
                )
            }
        finally:
            self._on_invoked()
        reply = result.get("body") if isinstance(result, dict) else None
        if reply is None or connection.socket.closed:
            return
        try:
            await connection.socket.send_str(str(reply))
        except ConnectionError:
            # The client went away while its frame was handled (a browser tab closed mid-reply):
            # the route has run, only its answer has no one to read it; $disconnect follows.
            log_event(
                "reply to a closed connection dropped",
                logging.DEBUG,
                connectionId=connection.connection_id,
                routeKey=route_key,
            )

    async def _disconnected(self, connection: Connection, request: web.Request | None) -> None:
        if self._disconnect_delay:  # the connection is gone (410) before $disconnect runs
            await asyncio.sleep(self._disconnect_delay)
        event = self._event(
            connection,
            request,
            route_key="$disconnect",
            event_type="DISCONNECT",
            disconnect_status=connection.close_code or connection.socket.close_code or 1005,
            disconnect_reason=connection.close_reason,
        )
        # A failure is logged by the invoker; API Gateway does not retry $disconnect either.
        with contextlib.suppress(InvocationFailed):
            await self._invoker.invoke(self._routes["$disconnect"], event)

    async def send(self, connection: Connection, data: str | bytes) -> bool:
        """Send one frame for ``@connections`` without waiting on the client; False when the
        connection is gone — closed, or just cut off for reading too slowly."""
        if connection.socket.closed or connection.close_code is not None:
            return False
        sending = (
            connection.socket.send_str(data)
            if isinstance(data, str)
            else connection.socket.send_bytes(data)
        )
        # The frame is in the buffer before aiohttp waits for the client to read: that wait
        # is shielded (other senders share it) and never held against the POST for long.
        task = asyncio.ensure_future(sending)
        try:
            await asyncio.wait_for(asyncio.shield(task), self._send_wait)
        except TimeoutError:
            task.add_done_callback(_quiet)
        except ConnectionError:
            return False
        unread = unread_bytes(connection.transport)
        if unread > self.max_unread_bytes:
            self.cut_off(connection, unread)
            return False
        return True

    def cut_off(self, connection: Connection, unread: int) -> None:
        """Drop a connection whose client does not read (no close handshake: it would not
        read that either); ``$disconnect`` follows."""
        if connection.close_code is None:
            connection.close_code = 1006
            connection.close_reason = f"Connection too slow: {unread} bytes unread"
        log_event(
            "closing connection",
            logging.WARNING,
            connectionId=connection.connection_id,
            reason=connection.close_reason,
        )
        if connection.transport is not None:
            connection.transport.abort()

    async def close(self, connection: Connection, code: int, reason: str) -> None:
        """Close a connection from the server side (``$disconnect`` follows)."""
        if connection.close_code is None:
            connection.close_code, connection.close_reason = code, reason
        await connection.socket.close(code=code, message=reason.encode("utf-8"))

    # -- limits --------------------------------------------------------------------------------

    async def _start_reaper(self, app: web.Application) -> None:
        self._reaper = asyncio.create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        interval = max(0.05, min(5.0, self._idle_timeout / 4, self._max_duration / 4))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for connection in list(self.connections.values()):
                if now - connection.started >= self._max_duration:
                    reason = "Connection reached its maximum duration"
                elif now - connection.last_active >= self._idle_timeout:
                    reason = "Connection idle for too long"
                else:
                    continue
                log_event(
                    "closing connection", connectionId=connection.connection_id, reason=reason
                )
                await self.close(connection, GOING_AWAY, reason)

    async def _close_all(self, app: web.Application) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        for connection in list(self.connections.values()):
            await self.close(connection, WSCloseCode.GOING_AWAY, "Stage shutting down")


def unread_bytes(transport: Any) -> int:
    """Bytes sent to a client and not yet read by it: the transport's buffer, plus the kernel's
    send queue (Linux ``SIOCOUTQ``: unsent and unacknowledged), where most of them wait."""
    if transport is None:
        return 0
    unread = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError, ValueError):
            queued = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
            unread += struct.unpack("i", queued)[0]
    return unread


def _quiet(task: asyncio.Future[Any]) -> None:
    """Retrieve a late send's outcome (the client went away meanwhile: nothing to do)."""
    if not task.cancelled():
        task.exception()


class _FrameLimitedResponse(web.WebSocketResponse):
    """A WebSocket response that also closes with 1009 when one frame is over the frame limit,
    and with 1002 when a client frame is not masked (RFC 6455 §5.1).

    aiohttp limits only the reassembled message (``max_msg_size``); here the connection's raw
    bytes pass through ``FrameSizeLimit`` before aiohttp's own parser, and the first frame over
    the limit fails the connection as aiohttp fails a message over ``max_msg_size`` (a
    ``WebSocketError`` with code 1009: the response closes with that code). The frame, and
    anything after it, never reaches the parser, so it is never routed.
    """

    def __init__(self, max_frame_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_frame_bytes = max_frame_bytes

    def _post_start(self, request: Any, protocol: Any, writer: Any) -> None:
        handler = request.protocol
        early, handler._message_tail = handler._message_tail, b""  # bytes sent with the handshake
        super()._post_start(request, protocol, writer)
        limit = FrameSizeLimit(self._max_frame_bytes, require_mask=True)
        handler._payload_parser = _GuardedParser(
            handler._payload_parser, limit, lambda: self._refuse_frame(limit)
        )
        if early:
            handler.data_received(early)

    def _refuse_frame(self, limit: FrameSizeLimit) -> None:
        """Fail the connection as aiohttp fails a message over its limit: it closes with the
        code of the ``WebSocketError`` (1009 too large, 1002 unmasked)."""
        error = WebSocketError(limit.close_code, limit.reason)
        self._reader.set_exception(error)  # type: ignore[union-attr]


class _GuardedParser:
    """Feeds aiohttp's WebSocket parser only what comes before the first frame over the limit."""

    def __init__(self, parser: Any, limit: FrameSizeLimit, on_too_large: Any) -> None:
        self._parser = parser
        self._limit = limit
        self._on_too_large = on_too_large
        self._tripped = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self._tripped:
            return False, b""
        offset = self._limit.feed(bytes(data))
        if offset is None:
            return self._parser.feed_data(data)
        self._tripped = True
        if offset:
            self._parser.feed_data(data[:offset])
        self._on_too_large()
        return False, b""

    def feed_eof(self) -> None:
        self._parser.feed_eof()
