"""The local stage: embedded AWS, the web servers (REST, WebSocket, web app, S3), the stream
pollers, the TTL sweeper and the lifecycle sweeper."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from reference_stack.definition import Stack, load
from reference_stack.local.config import StageConfig
from reference_stack.local.embedded_aws import EmbeddedAws
from reference_stack.local.errors import StartFailed
from reference_stack.local.fault_proxy import FaultProxy
from reference_stack.local.fault_runner import FaultRunner
from reference_stack.local.faults import FaultPlan, FaultPlanError
from reference_stack.local.invoker import Invoker
from reference_stack.local.lambda_api import LambdaApi
from reference_stack.local.lifecycle import sweep_forever as sweep_lifecycle_forever
from reference_stack.local.logs import log_event
from reference_stack.local.management_api import ManagementApi
from reference_stack.local.rest_api import build_rest_app
from reference_stack.local.s3_auth import Credentials
from reference_stack.local.s3_front import S3Front
from reference_stack.local.stream_poller import StreamPoller
from reference_stack.local.ttl_sweeper import sweep_forever
from reference_stack.local.web import build_web_app
from reference_stack.local.websocket_api import WebSocketApi

__all__ = ["LocalStage", "StageUrls", "stream_lanes", "write_stage_file"]


def stream_lanes(stack: Stack) -> dict[str, int]:
    """Sandboxes of each stream's function: one per lane of its mappings, as Lambda runs
    ``ParallelizationFactor`` batches of a shard at once (``--function-processes`` wins)."""
    lanes: dict[str, int] = {}
    for mapping in stack.streams:
        lanes[mapping.function] = lanes.get(mapping.function, 0) + mapping.parallelization_factor
    return lanes


@dataclass(frozen=True)
class StageUrls:
    rest_url: str
    ws_url: str
    web_url: str
    management_url: str
    s3_url: str = ""  # the S3 endpoint: upload and download URLs name it, the app is never told

    def public(self) -> dict[str, str]:
        """The stage file's shape, shared with ``terraform output`` and the conformance suite."""
        return {"rest_url": self.rest_url, "ws_url": self.ws_url, "web_url": self.web_url}


def write_stage_file(path: Path, urls: StageUrls) -> None:
    """Write the stage file atomically, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(urls.public(), indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


async def _site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    sockets = site._server.sockets if site._server else []
    return runner, sockets[0].getsockname()[1]


class LocalStage:
    """Runs the stack of ``stack.json`` on this machine."""

    def __init__(self, config: StageConfig, stack: Stack | None = None) -> None:
        self.config = config
        self.stack = stack or (load(config.stack_file) if config.stack_file else load())
        if config.process_functions is None:  # every function in sandboxes of its own
            config.process_functions = tuple(self.stack.functions)
        self.plan = FaultPlan.load(config.faults) if config.faults else None
        self._data_dir: tempfile.TemporaryDirectory[str] | None = None
        if self.plan is not None:
            self._check_plan(self.plan)
        self.aws = EmbeddedAws(
            config.host,
            dynamodb=config.dynamodb,
            dynamodb_endpoint=config.dynamodb_endpoint,
            dynamodb_local_dir=config.dynamodb_local_dir,
            dynamodb_data_dir=config.dynamodb_data_dir,
        )
        if self.aws.shared_dynamodb:  # other stages' tables live there too: names of its own
            config.table_prefix = f"{config.table_prefix}-{secrets.token_hex(4)}"
        self.urls: StageUrls | None = None
        self._runners: list[web.AppRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._invoker: Invoker | None = None
        self._management: ManagementApi | None = None
        self.pollers: list[StreamPoller] = []
        self.delivery_url = ""
        self.failure: str | None = None  # why the stage stopped on its own
        self._stopping = asyncio.Event()
        self._proxy: FaultProxy | None = None
        self._faults: FaultRunner | None = None

    def _check_plan(self, plan: FaultPlan) -> None:
        """Refuse, before anything starts, a plan this stage cannot carry out."""
        c = self.config
        for fault in plan.of_kind("crash") + plan.of_kind("kill"):
            if fault.spec["function"] not in c.process_functions:
                raise FaultPlanError(
                    f"fault {fault.index}: {fault.spec['function']} does not run in a worker "
                    f"process of its own (--process-functions {','.join(c.process_functions)})"
                )
        if plan.restarts("dynamodb"):
            if c.dynamodb != "local" or c.dynamodb_endpoint:
                raise FaultPlanError(
                    "restarting DynamoDB needs the stage's own DynamoDB Local (not "
                    "--dynamodb moto, not --dynamodb-endpoint): its tables must outlive it"
                )
            if c.dynamodb_data_dir is None:  # on disk, so a restart keeps every table
                self._data_dir = tempfile.TemporaryDirectory(prefix="chatstack-dynamodb-")
                c.dynamodb_data_dir = Path(self._data_dir.name)
        if plan.restarts("moto") and c.dynamodb == "moto":
            raise FaultPlanError(
                "restarting moto with --dynamodb moto would lose every table: restart "
                "DynamoDB Local instead (the default backend)"
            )

    def _handler_environment(self) -> dict[str, str]:
        c, stack = self.config, self.stack
        env = {
            table.env: stack.table_name(c.table_prefix, logical)
            for logical, table in stack.tables.items()
        }
        env.update(
            CHATSTACK_JWT_SECRET=c.jwt_secret,
            CHATSTACK_BCRYPT_ROUNDS=str(c.bcrypt_rounds),
            CHATSTACK_TOKEN_TTL_SECONDS=str(c.token_ttl_seconds),
            POWERTOOLS_LOG_LEVEL=c.handler_log_level,
            POWERTOOLS_SERVICE_NAME="chatstack",
        )
        if c.shard_threshold is not None:
            env["CHATSTACK_SHARD_THRESHOLD"] = str(c.shard_threshold)
        if c.shard_size is not None:
            env["CHATSTACK_SHARD_SIZE"] = str(c.shard_size)
        if "fanout_shard" in stack.functions:  # named as its Lambda context names it
            env["CHATSTACK_FANOUT_FUNCTION"] = f"{c.table_prefix}-fanout_shard"
        for bucket in stack.buckets.values():
            env[bucket.env] = bucket.bucket_name(c.table_prefix)
        if c.media_url_ttl is not None:
            env["CHATSTACK_MEDIA_UPLOAD_TTL_SECONDS"] = str(c.media_url_ttl)
            env["CHATSTACK_MEDIA_DOWNLOAD_TTL_SECONDS"] = str(c.media_url_ttl)
        return env

    async def start(self) -> StageUrls:
        """Start everything; returns the stage's URLs once they all answer."""
        c = self.config
        # Every boto3 client of this process — the handlers' included — talks to the embedded
        # AWS, never to AWS.
        await asyncio.to_thread(self.aws.start)
        if self.plan is not None and self.plan.of_kind("dynamodb"):
            self._proxy = FaultProxy(self.aws.dynamodb_url, self.plan, c.host)
            self.aws.dynamodb_via = await asyncio.to_thread(self._proxy.start)
        os.environ.update(self.aws.environment())
        streams = await asyncio.to_thread(self.aws.create_tables, self.stack, c.table_prefix)
        buckets = await asyncio.to_thread(self.aws.create_buckets, self.stack, c.table_prefix)
        # S3 as browsers and functions reach it: moto's, behind the checks S3 makes.
        s3_url = await self._serve_s3()
        # Handlers read their settings at first use, Powertools at import: set them all now.
        # The @connections URL is set once its server listens, before any broadcast.
        os.environ.update(self._handler_environment())
        self._invoker = Invoker(
            self.stack,
            c.workers,
            prefix=c.table_prefix,
            process_functions=c.process_functions,
            processes={**stream_lanes(self.stack), **c.function_processes},
            default_processes=c.default_function_processes,
            concurrency=c.function_concurrency,
        )
        # Lambda's Invoke API, for the broadcaster's shards: boto3 clients find it by name.
        self.lambda_api = LambdaApi(
            self.stack, self._invoker, c.table_prefix, retry_delay=c.async_retry_delay
        )
        runner, lambda_port = await _site(self.lambda_api.build_app(), c.host, 0)
        self._runners.append(runner)
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = f"http://{c.host}:{lambda_port}"
        # One poller per event source mapping, each with its own reader, as Lambda's are.
        self.pollers = [
            StreamPoller(
                self.aws.client("dynamodbstreams"),
                streams[mapping.table],
                self._invoker,
                mapping.function,
                batch_size=mapping.batch_size,
                maximum_retry_attempts=mapping.maximum_retry_attempts,
                poll_interval=c.stream_poll_interval,
                filters=mapping.filters,
                parallelization_factor=mapping.parallelization_factor,
                partition_key=self.stack.tables[mapping.table].hash_key,
            )
            for mapping in self.stack.streams
        ]

        def nudge() -> None:
            for poller in self.pollers:
                poller.nudge()

        async def restart_pollers() -> None:
            for poller in self.pollers:
                await poller.restart()

        self.websocket = WebSocketApi(
            self.stack,
            self._invoker,
            stage=c.stage,
            max_message_bytes=c.max_message_bytes,
            max_frame_bytes=c.max_frame_bytes,
            idle_timeout=c.idle_timeout,
            max_connection_duration=c.max_connection_duration,
            disconnect_delay=c.disconnect_delay,
            on_invoked=nudge,
            max_unread_bytes=c.max_unread_bytes,
            heartbeat=c.heartbeat or None,
        )
        if self.plan is not None:
            self._faults = FaultRunner(
                self.plan,
                self._invoker,
                {
                    "poller": restart_pollers,
                    "dynamodb": lambda: asyncio.to_thread(self.aws.kill, "dynamodb"),
                    "moto": lambda: asyncio.to_thread(self.aws.kill, "moto"),
                },
            )
        management = ManagementApi(self.websocket, c.stage, self._faults)
        ws_app = self.websocket.build_app()
        management.add_routes(ws_app)  # @connections on the WebSocket host, as on AWS
        runner, ws_port = await _site(ws_app, c.host, c.ws_port)
        self._runners.append(runner)
        management_url = f"http://{c.host}:{ws_port}/{c.stage}"
        # The functions post through the same answers on a lighter server of their own.
        self._management = management
        server = await management.serve(c.host, 0)
        delivery_port = server.sockets[0].getsockname()[1]
        self.delivery_url = f"http://{c.host}:{delivery_port}/{c.stage}"
        os.environ["CHATSTACK_MANAGEMENT_URL"] = self.delivery_url
        rest = build_rest_app(
            self.stack,
            self._invoker,
            c.stage,
            cors_origin="*",
            integration_timeout=c.integration_timeout,
            on_invoked=nudge,
        )
        runner, rest_port = await _site(rest, c.host, c.rest_port)
        self._runners.append(runner)
        rest_url = f"http://{c.host}:{rest_port}/{c.stage}"
        ws_url = f"ws://{c.host}:{ws_port}/{c.stage}"
        runner, web_port = await _site(
            build_web_app(c.web_root, rest_url, ws_url), c.host, c.web_port
        )
        self._runners.append(runner)
        web_origin = f"http://{c.host}:{web_port}"
        await asyncio.to_thread(self.aws.allow_origins, self.stack, c.table_prefix, [web_origin])

        ttl_tables = {
            self.stack.table_name(c.table_prefix, logical): table.ttl_attribute
            for logical, table in self.stack.tables.items()
            if table.ttl_attribute
        }
        for poller in self.pollers:
            poller.start()
        self._tasks.append(asyncio.create_task(self._watch_aws(), name="aws-watchdog"))
        # The sandboxes' fork server loads the handlers now, while nothing waits for it.
        self._tasks.append(asyncio.create_task(asyncio.to_thread(self._invoker.warm)))
        if not self.aws.expires_items:  # moto keeps expired items: the stage deletes them
            self._tasks.append(
                asyncio.create_task(
                    sweep_forever(self.aws.client("dynamodb"), ttl_tables, c.ttl_sweep_interval),
                    name="ttl-sweeper",
                )
            )
        if buckets:  # moto keeps a lifecycle configuration but never applies it
            self._tasks.append(
                asyncio.create_task(
                    sweep_lifecycle_forever(
                        self.aws.client("s3"),
                        list(buckets.values()),
                        c.lifecycle_day,
                        min(60.0, max(0.5, c.lifecycle_day / 8)),
                    ),
                    name="lifecycle-sweeper",
                )
            )
        self.urls = StageUrls(
            rest_url, ws_url, f"http://{c.host}:{web_port}/", management_url, s3_url
        )
        if c.stage_file is not None:
            write_stage_file(c.stage_file, self.urls)
        log_event(
            "stage started",
            **self.urls.public(),
            aws_endpoint=self.aws.endpoint_url,
            dynamodb=self.aws.backend,
            dynamodb_endpoint=self.aws.dynamodb_url,
            tables={
                logical: self.stack.table_name(c.table_prefix, logical)
                for logical in self.stack.tables
            },
            management_url=self.urls.management_url,
            s3_url=s3_url,
            s3_endpoint=self.aws.s3_url,
            buckets=buckets,
            delivery_url=self.delivery_url,
            lambda_endpoint=os.environ["AWS_ENDPOINT_URL_LAMBDA"],
            fault_proxy=self.aws.dynamodb_via,
            pids=self.aws.pids(),
            faults=str(c.faults) if c.faults else None,
        )
        if self._proxy is not None:
            self._proxy.arm()
        if self._faults is not None:
            self._faults.arm()
        return self.urls

    async def _serve_s3(self) -> str:
        """Start the S3 front on its port; every boto3 client of the stage (the functions')
        then reaches S3 through it, and so do the URLs they presign."""
        c = self.config
        credentials = Credentials(
            {
                os.environ["AWS_ACCESS_KEY_ID"]: (
                    os.environ["AWS_SECRET_ACCESS_KEY"],
                    os.environ.get("AWS_SESSION_TOKEN"),
                )
            }
        )
        s3 = self.aws.client("s3")

        def cors_rules(bucket: str) -> list[dict]:
            try:
                return s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
            except s3.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchCORSConfiguration":
                    return []
                raise

        front = S3Front(self.aws.s3_url, credentials, cors_rules)
        runner, port = await _site(front.build_app(), c.host, c.media_port)
        self._runners.append(runner)
        url = f"http://{c.host}:{port}"
        os.environ["AWS_ENDPOINT_URL_S3"] = url
        return url

    async def _watch_aws(self, interval: float = 0.5) -> None:
        """A part of the embedded AWS that dies is restarted when its data survives it;
        otherwise the stage stops with a message that says so (it never lingers half alive)."""
        names = {"moto": "moto's server", "s3": "S3 (moto)", "dynamodb": "DynamoDB Local"}
        while True:
            await asyncio.sleep(interval)
            for part, code in self.aws.dead().items():
                if not self.aws.restartable(part):
                    self.failure = (
                        f"the embedded AWS's {names[part]} exited (code {code}) and the data it "
                        "held in memory is gone: the stage stops (restart it)"
                    )
                    log_event("embedded AWS died", logging.ERROR, part=part, exitCode=code)
                    self._stopping.set()
                    return
                log_event(
                    "embedded AWS died: restarting it", logging.ERROR, part=part, exitCode=code
                )
                try:
                    await asyncio.to_thread(self.aws.restart, part)
                except StartFailed as exc:
                    self.failure = f"the embedded AWS's {names[part]} could not restart: {exc}"
                    log_event("embedded AWS did not restart", logging.ERROR, part=part)
                    self._stopping.set()
                    return
                log_event("embedded AWS restarted", part=part)

    async def stop(self) -> None:
        """Stop tailing the stream, close every connection (running ``$disconnect``), then stop
        the servers and moto."""
        if self._faults is not None:
            await self._faults.stop()
        for poller in self.pollers:
            await poller.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._management is not None:
            await self._management.stop()
        for runner in reversed(self._runners):
            await runner.cleanup()
        if self._invoker is not None:
            self._invoker.shutdown()
        if self.aws.shared_dynamodb:
            await asyncio.to_thread(self.aws.delete_tables, self.stack, self.config.table_prefix)
        self.aws.stop()
        if self._proxy is not None:
            self._proxy.stop()
        if self._data_dir is not None:
            self._data_dir.cleanup()
        if self.config.stage_file is not None:
            self.config.stage_file.unlink(missing_ok=True)
        log_event("stage stopped")

    async def serve_until_signalled(self) -> None:
        """Run until SIGINT or SIGTERM, then stop cleanly."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._stopping.set)
        await self.start()
        await self._stopping.wait()
        await self.stop()
