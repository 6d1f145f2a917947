"""The embedded AWS: moto's server on a free loopback port, in a process of its own, and the
stack's tables in AWS's DynamoDB Local (default) or in moto."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import boto3

from reference_stack.definition import Stack
from reference_stack.local.dynamodb_local import DEFAULT_EMULATOR_DIR, DynamoDBLocal
from reference_stack.local.errors import StartFailed
from reference_stack.local.process_names import name_process

__all__ = ["DYNAMODB_BACKENDS", "DYNAMODB_SERVICES", "EmbeddedAws", "fake_credentials_env"]

DYNAMODB_BACKENDS = ("local", "moto")
DYNAMODB_SERVICES = ("dynamodb", "dynamodbstreams")


def fake_credentials_env(endpoint_url: str, dynamodb_url: str | None = None) -> dict[str, str]:
    """Variables that point every boto3 client of this process at the embedded AWS, never at
    AWS: moto at ``endpoint_url``, DynamoDB and its streams at ``dynamodb_url`` (default moto)."""
    dynamodb_url = dynamodb_url or endpoint_url
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": dynamodb_url,
    }


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# moto keeps every stream record for ever (AWS keeps 24 h): the embedded AWS's memory grew
# from 136 to 609 MB in a long run. It keeps the newest ones: a reader further behind than
# this has lost far more than any retry window anyway.
STREAM_RECORDS_KEPT = 20_000


def trim_stream_records(tables: Iterable[Any], keep: int = STREAM_RECORDS_KEPT) -> int:
    """Drop all but the newest ``keep`` records of each moto table's stream shard, keeping the
    sequence numbers of the rest (moto indexes records from the shard's starting number);
    returns how many were dropped."""
    dropped = 0
    for table in tables:
        shard = getattr(table, "stream_shard", None)
        if shard is None or len(shard.items) <= keep:
            continue
        extra = len(shard.items) - keep
        del shard.items[:extra]
        shard.starting_sequence_number += extra
        dropped += extra
    return dropped


def _moto_tables() -> list[Any]:
    from moto.dynamodb.models import dynamodb_backends

    return [
        table
        for account in dynamodb_backends.values()
        for backend in account.values()
        for table in list(backend.tables.values())
    ]


def serialized(app: WsgiApp, lock: threading.Lock | None = None) -> WsgiApp:
    """``app``, answering one request at a time.

    moto's backends are not thread-safe: a transaction copies the whole table and, when
    cancelled, restores that copy — wiping out what concurrent requests wrote meanwhile — and a
    copy taken while another request writes fails with "dictionary changed size during
    iteration". DynamoDB gives each request atomicity, so the embedded AWS must too.
    """
    lock = lock or threading.Lock()

    def locked(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return [b"".join(app(environ, start_response))]

    return locked


def _serve(host: str, port: int, ports: Any) -> None:
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
    name_process("moto")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parent = os.getppid()
    lock = threading.Lock()
    app = serialized(DomainDispatcherApplication(create_backend_app), lock)
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)

    def orphaned() -> None:  # the stage was killed outright: do not outlive it
        while os.getppid() == parent:
            time.sleep(1.0)
        server.shutdown()

    def trimming() -> None:  # between requests, as any request would
        while True:
            time.sleep(30.0)
            with lock:
                trim_stream_records(_moto_tables())

    threading.Thread(target=orphaned, daemon=True).start()
    threading.Thread(target=trimming, daemon=True).start()
    ports.send(server.server_address[1])
    server.serve_forever()


class _MotoProcess:
    """One moto server in a process of its own, on the same port across restarts."""

    def __init__(self, host: str, name: str) -> None:
        self._host, self._name = host, name
        self._process: Any = None
        self._receiving: Any = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def spawn(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._receiving, sending = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve, args=(self._host, self.port, sending), name=self._name, daemon=True
        )
        self._process.start()

    def started(self) -> None:
        """Wait until the spawned server listens.

        Raises:
            StartFailed: it died or took over a minute.
        """
        deadline = time.monotonic() + 60
        while not self._receiving.poll(0.1):
            if not self._process.is_alive() or time.monotonic() > deadline:
                raise StartFailed(
                    f"the embedded AWS ({self._name}) did not start "
                    f"(exit code {self._process.exitcode})"
                )
        self.port = int(self._receiving.recv())

    def dead(self) -> bool:
        return self._process is not None and not self._process.is_alive()

    def exit_code(self) -> int | None:
        return self._process.exitcode if self._process is not None else None

    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(10)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(timeout=10)


class EmbeddedAws:
    """moto's server, in a process of its own, and the tables of a stack.

    DynamoDB and DynamoDB Streams are AWS's DynamoDB Local (``dynamodb="local"``): its own
    process, started here, or one already running at ``dynamodb_endpoint`` (shared by several
    stages, each with its own tables); with ``dynamodb="moto"``, moto serves them too. Either way
    DynamoDB's work stays off the stage's event loop, which answers every WebSocket frame and
    ``@connections`` POST.
    """

    def __init__(
        self,
        host: str,
        dynamodb: str = "local",
        dynamodb_endpoint: str | None = None,
        dynamodb_local_dir: Path | None = None,
        dynamodb_data_dir: Path | None = None,
    ) -> None:
        if dynamodb not in DYNAMODB_BACKENDS:
            choices = ", ".join(DYNAMODB_BACKENDS)
            raise ValueError(f"dynamodb must be one of {choices}, got {dynamodb!r}")
        self._host = host
        self._moto = _MotoProcess(host, "embedded-aws")
        # S3 in a moto of its own: its files live in that process's memory, so it cannot be
        # restarted without losing them, while the other moto holds nothing and can.
        self._s3 = _MotoProcess(host, "embedded-s3")
        self.backend = dynamodb
        self.shared_dynamodb = dynamodb == "local" and dynamodb_endpoint is not None
        self._dynamodb_local = (
            DynamoDBLocal(host, dynamodb_local_dir or DEFAULT_EMULATOR_DIR, dynamodb_data_dir)
            if dynamodb == "local" and dynamodb_endpoint is None
            else None
        )
        self.endpoint_url = ""
        self.s3_url = ""  # moto's S3 itself (the stage's clients use the S3 front before it)
        self.dynamodb_url = dynamodb_endpoint if self.shared_dynamodb else ""
        self.dynamodb_via: str | None = None  # a proxy the stage's clients reach DynamoDB by
        # DynamoDB Local deletes expired items itself, within seconds, with REMOVE stream
        # records from the service, as AWS does (within 48 h); moto never does.
        self.expires_items = dynamodb == "local"

    def start(self) -> str:
        """Start moto, moto's S3 (and DynamoDB Local), side by side, on free ports; return
        moto's URL.

        Raises:
            DependencyMissing: Java or DynamoDB Local is not installed.
            StartFailed: a server did not start.
        """
        if self._dynamodb_local is not None:
            self._dynamodb_local.check()  # say what is missing before starting anything
        self._moto.spawn()
        self._s3.spawn()
        try:
            if self._dynamodb_local is not None:  # the JVM starts while moto imports
                self.dynamodb_url = self._dynamodb_local.start()
            self._moto.started()
            self._s3.started()
        except BaseException:
            self.stop()
            raise
        self.endpoint_url = self._moto.url
        self.s3_url = self._s3.url
        if self.backend == "moto":
            self.dynamodb_url = self.endpoint_url
        return self.endpoint_url

    # -- a part that dies ------------------------------------------------------------------------

    def dead(self) -> dict[str, int | None]:
        """The parts whose process has ended (``moto``, ``s3``, ``dynamodb``), with their exit
        codes."""
        dead: dict[str, int | None] = {}
        for part, moto in (("moto", self._moto), ("s3", self._s3)):
            if moto.dead():
                dead[part] = moto.exit_code()
        if self._dynamodb_local is not None and not self._dynamodb_local.alive():
            dead["dynamodb"] = self._dynamodb_local.exit_code()
        return dead

    def pids(self) -> dict[str, int | None]:
        """The processes of the parts the stage started (for its log, and for tests)."""
        pids: dict[str, int | None] = {"moto": self._moto.pid(), "s3": self._s3.pid()}
        if self._dynamodb_local is not None:
            pids["dynamodb"] = self._dynamodb_local.pid()
        return pids

    def restartable(self, part: str) -> bool:
        """Whether ``part`` can be restarted without losing the stage's data: moto when it
        serves no DynamoDB; DynamoDB Local when its tables are on disk; never moto's S3."""
        if part == "moto":
            return self.backend != "moto"
        if part == "s3":
            return False
        return self._dynamodb_local is not None and self._dynamodb_local.durable

    def kill(self, part: str) -> None:
        """SIGKILL ``part``'s process, as a crash would (a fault plan's restart)."""
        if part in ("moto", "s3"):
            (self._moto if part == "moto" else self._s3).kill()
        elif part == "dynamodb" and self._dynamodb_local is not None:
            self._dynamodb_local.kill()

    def restart(self, part: str) -> None:
        """Start ``part`` again on its port (blocking; clients reconnect on their own).

        Raises:
            StartFailed: it did not start.
        """
        if part == "moto":
            self._moto.spawn()
            self._moto.started()
        elif self._dynamodb_local is not None:
            self._dynamodb_local.start()

    def environment(self) -> dict[str, str]:
        """The variables that point boto3 at this embedded AWS (see ``fake_credentials_env``)."""
        return fake_credentials_env(self.endpoint_url, self.dynamodb_via or self.dynamodb_url)

    def client(self, service: str) -> Any:
        """A client of the embedded AWS itself (for S3: moto's, not the S3 front's checks)."""
        if service in DYNAMODB_SERVICES:
            endpoint = self.dynamodb_via or self.dynamodb_url
        else:
            endpoint = self.s3_url if service == "s3" else self.endpoint_url
        return boto3.client(
            service,
            endpoint_url=endpoint,
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

    def create_buckets(self, stack: Stack, prefix: str) -> dict[str, str]:
        """Create every bucket of the stack as the Terraform does — encrypted, public access
        blocked, its lifecycle rules — CORS aside (``allow_origins``); returns logical → name."""
        s3 = self.client("s3")
        names: dict[str, str] = {}
        for logical, bucket in stack.buckets.items():
            name = names[logical] = bucket.bucket_name(prefix)
            s3.create_bucket(Bucket=name)
            s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration=dict.fromkeys(
                    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy"), True
                )
                | {"RestrictPublicBuckets": True},
            )
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration=bucket.lifecycle_configuration()
            )
        return names

    def allow_origins(self, stack: Stack, prefix: str, origins: list[str]) -> None:
        """Let ``origins`` (the web app's) reach the stack's buckets from a browser (CORS)."""
        s3 = self.client("s3")
        for bucket in stack.buckets.values():
            s3.put_bucket_cors(
                Bucket=bucket.bucket_name(prefix),
                CORSConfiguration=bucket.cors_configuration(origins),
            )

    def delete_tables(self, stack: Stack, prefix: str) -> None:
        """Delete the stack's tables (a shared DynamoDB Local outlives this stage)."""
        dynamodb = self.client("dynamodb")
        for logical in stack.tables:
            with contextlib.suppress(Exception):
                dynamodb.delete_table(TableName=stack.table_name(prefix, logical))

    def stop(self) -> None:
        self._moto.stop()
        self._s3.stop()
        if self._dynamodb_local is not None:
            self._dynamodb_local.stop()
