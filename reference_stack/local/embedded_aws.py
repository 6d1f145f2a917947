"""The embedded AWS: moto's server on a free loopback port, in a process of its own, with the
stack's tables."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import boto3

from reference_stack.definition import Stack

__all__ = ["EmbeddedAws", "fake_credentials_env"]


def fake_credentials_env(endpoint_url: str) -> dict[str, str]:
    """Variables that point every boto3 client of this process at moto, never at AWS."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": endpoint_url,
    }


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialized(app: WsgiApp) -> WsgiApp:
    """``app``, answering one request at a time.

    moto's backends are not thread-safe: a transaction copies the whole table and, when
    cancelled, restores that copy — wiping out what concurrent requests wrote meanwhile — and a
    copy taken while another request writes fails with "dictionary changed size during
    iteration". DynamoDB gives each request atomicity, so the embedded AWS must too.
    """
    lock = threading.Lock()

    def locked(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return [b"".join(app(environ, start_response))]

    return locked


def _serve(host: str, ports: Any) -> None:
    """The embedded AWS process: moto's server, one request at a time, until its parent goes."""
    import os
    import signal

    from moto.server import (  # heavy import: only when a stage starts
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the stage's to handle
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parent = os.getppid()
    app = serialized(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, 0, app, threaded=True, request_handler=MotoRequestHandler)

    def orphaned() -> None:  # the stage was killed outright: do not outlive it
        while os.getppid() == parent:
            time.sleep(1.0)
        server.shutdown()

    threading.Thread(target=orphaned, daemon=True).start()
    ports.send(server.server_address[1])
    server.serve_forever()


class EmbeddedAws:
    """moto's server, in a process of its own, and the tables of ``stack`` created in it.

    Its own process keeps DynamoDB's work (a 1,000-member Query is about 90 ms of moto) off the
    stage's event loop, which answers every WebSocket frame and ``@connections`` POST.
    """

    def __init__(self, host: str) -> None:
        self._host = host
        self._process: Any = None
        self.endpoint_url = ""

    def start(self) -> str:
        """Start the server on a free port; return its URL."""
        context = multiprocessing.get_context("spawn")
        receiving, sending = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve, args=(self._host, sending), name="embedded-aws", daemon=True
        )
        self._process.start()
        deadline = time.monotonic() + 60
        while not receiving.poll(0.1):
            if not self._process.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the embedded AWS did not start (exit code {self._process.exitcode})"
                )
        self.endpoint_url = f"http://{self._host}:{receiving.recv()}"
        return self.endpoint_url

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def create_tables(self, stack: Stack, prefix: str) -> dict[str, str]:
        """Create every table of the stack; returns logical name → stream ARN (if any)."""
        dynamodb = self.client("dynamodb")
        streams: dict[str, str] = {}
        for logical, table in stack.tables.items():
            name = stack.table_name(prefix, logical)
            created = dynamodb.create_table(**table.create_table_kwargs(name))
            description = created["TableDescription"]
            if table.ttl_attribute:
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
            if description.get("LatestStreamArn"):
                streams[logical] = description["LatestStreamArn"]
        return streams

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(timeout=10)
