"""A tiny ``@connections`` server for the delivery tests, and posters of both paths for it.

It answers POST /{stage}/@connections/{id} by the id's prefix: ``ok`` 200, ``gone`` 410,
``boom`` 500, ``flaky`` 500 once, ``throttled`` 429 once, ``sick`` 500 for the first
``SICK_FAILURES`` requests, ``forbidden`` 403, ``garbled`` a status line that is not HTTP
(``HTTP/1.1 2OO OK``) once, then 200.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.config import Config
from botocore.credentials import Credentials

from lambdas.domain.delivery import ManagementApiPoster
from lambdas.domain.signed_delivery import SignedPoster

SICK_FAILURES = 2


@dataclass
class Received:
    method: str
    raw_path: str
    path: str
    body: bytes
    authorization: str = ""


class ConnectionsApi(ThreadingHTTPServer):
    """Answers POST /{stage}/@connections/{id} by the id's prefix: ok, gone or boom."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[Received] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: ConnectionsApi

    def log_message(self, format, *args):  # keep the test output quiet
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        path = unquote(self.path)
        with self.server.lock:
            self.server.received.append(
                Received("POST", self.path, path, body, self.headers.get("Authorization", ""))
            )
        connection_id = path.rsplit("/", 1)[-1]
        if connection_id.startswith("gone"):
            self._answer(410, {"message": "Gone"}, {"x-amzn-ErrorType": "GoneException"})
        elif connection_id.startswith("boom"):
            self._answer(500, {"message": "Internal server error"})
        elif connection_id.startswith(("flaky", "throttled")) and self._first(connection_id):
            status = 500 if connection_id.startswith("flaky") else 429
            self._answer(
                status,
                {"message": "try again"},
                {"x-amzn-ErrorType": "LimitExceededException"} if status == 429 else {},
            )
        elif connection_id.startswith("sick") and self._seen(connection_id) <= SICK_FAILURES:
            self._answer(500, {"message": "still sick"})
        elif connection_id.startswith("garbled") and self._first(connection_id):
            self.wfile.write(b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n")
            self.close_connection = True
        elif connection_id.startswith("forbidden"):
            self._answer(403, {"message": "Forbidden"}, {"x-amzn-ErrorType": "ForbiddenException"})
        else:
            self._answer(200, None)

    def _seen(self, connection_id):
        """How many requests for ``connection_id`` arrived, this one included."""
        with self.server.lock:
            return sum(1 for r in self.server.received if r.path.endswith("/" + connection_id))

    def _first(self, connection_id):
        """Whether this is the first request for ``connection_id`` (flaky ones fail once)."""
        return self._seen(connection_id) == 1

    def _answer(self, status, payload, headers=None):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def api() -> Iterator[ConnectionsApi]:
    server = ConnectionsApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def received(api) -> list[Received]:
    with api.lock:
        api.received.clear()
    return api.received


def poster_for(
    endpoint_url: str, path: str = "boto3", attempts: int = 1, refusals: int | None = None
) -> Any:
    if path == "signed":
        credentials = Credentials("functional", "functional")
        return SignedPoster(
            endpoint_url,
            "us-east-1",
            credentials,
            max_attempts=attempts,
            max_refusals=attempts if refusals is None else refusals,
            base_delay=0.01,
        )
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="functional",
        aws_secret_access_key="functional",
        config=Config(
            retries={"total_max_attempts": attempts, "mode": "standard"},
            connect_timeout=2,
            read_timeout=5,
        ),
    )
    return ManagementApiPoster(client)
