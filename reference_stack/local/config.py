"""Every setting of the local stage, read in one place (``CHATSTACK_*``, then the command line)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["REPO_ROOT", "StageConfig", "parse_counts", "process_functions"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def _cpus_but_one() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def _default_processes() -> dict[str, int]:
    return {
        "fanout_shard": 8,
        **dict.fromkeys(("signup", "login"), _cpus_but_one()),
    }


def process_functions(text: str) -> tuple[str, ...] | None:
    """``all`` → None (every function); else the comma-separated names (``''``: none)."""
    if text.strip() == "all":
        return None
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(env.get(name) or default)


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    return float(env.get(name) or default)


def parse_counts(text: str) -> dict[str, int]:
    """``name=N,name=N`` as a dict (e.g. ``--function-processes fanout_shard=8``).

    Raises:
        ValueError: an entry is not ``name=N`` with N ≥ 1.
    """
    counts: dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        name, _, number = entry.partition("=")
        if not name or not number.isdigit() or int(number) < 1:
            raise ValueError(f"expected name=N with N >= 1, got {entry!r}")
        counts[name.strip()] = int(number)
    return counts


@dataclass
class StageConfig:
    """The local stage's settings; ``from_env`` documents the variables."""

    host: str = "127.0.0.1"
    stage: str = "dev"
    rest_port: int = 8000
    ws_port: int = 8001
    web_port: int = 8002
    # The S3 endpoint (moto behind S3's checks): a free port unless given; the app never needs
    # to be told it (upload and download URLs carry it).
    media_port: int = 0
    stage_file: Path | None = None
    table_prefix: str = "chatstack-local"
    jwt_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    bcrypt_rounds: int = 12
    token_ttl_seconds: int = 86400
    idle_timeout: float = 600.0  # API Gateway: 10 minutes
    max_connection_duration: float = 7200.0  # API Gateway: 2 hours
    max_message_bytes: int = 128 * 1024  # API Gateway: 128 KB per message
    max_frame_bytes: int = 32 * 1024  # API Gateway: 32 KB per frame
    integration_timeout: float = 29.0  # API Gateway: 29 s
    max_unread_bytes: int = 1024 * 1024  # a client with more unread is cut off
    heartbeat: float = 30.0  # the stage pings; a peer that does not answer is dropped
    workers: int = 32
    # Every function runs in sandboxes of its own — worker processes, on any core, as each
    # Lambda function has its own CPU — started on demand, up to ``function_processes[name]``
    # (default ``default_function_processes``) at once. ``process_functions`` (None: all) names
    # the functions run so; the others run in threads of the stage's own process. A stream's
    # function has a sandbox per lane of its mapping (stack.json's ``parallelization_factor``,
    # the batches of a shard that run at once); bcrypt's functions leave a core to the rest;
    # the fan-out function's shards and busy routes run side by side, as Lambda scales them.
    process_functions: tuple[str, ...] | None = None
    function_processes: dict[str, int] = field(default_factory=lambda: _default_processes())
    default_function_processes: int = 4
    # Threads per function (Lambda's reserved concurrency); others get ``workers``. bcrypt is
    # all CPU: the functions that hash leave a core to the rest, so a login storm queues logins
    # instead of starving every route.
    function_concurrency: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("signup", "login"), _cpus_but_one())
    )
    # Sharded fan-out (lambdas/settings.py): None keeps the handlers' defaults.
    shard_threshold: int | None = None
    shard_size: int | None = None
    async_retry_delay: float = 1.0  # Lambda retries a failed async invocation after 1, 2 min
    stream_poll_interval: float = 0.25
    ttl_sweep_interval: float = 60.0
    web_root: Path = REPO_ROOT / "frontend" / "dist"
    stack_file: Path | None = None  # another stack definition (e.g. handler variants)
    disconnect_delay: float = 0.0  # API Gateway runs $disconnect asynchronously, after the close
    handler_log_level: str = "INFO"
    # The stage's DynamoDB and DynamoDB Streams: AWS's DynamoDB Local (``local``, the default) or
    # moto (``moto``); moto serves every other service either way. ``dynamodb_endpoint`` names a
    # DynamoDB Local already running (shared by several stages, each with its own tables).
    dynamodb: str = "local"
    dynamodb_endpoint: str | None = None
    dynamodb_local_dir: Path | None = None  # the folder of DynamoDBLocal.jar (default: .tools)
    # DynamoDB Local's tables on disk (they then outlive its process); None: in memory.
    dynamodb_data_dir: Path | None = None
    faults: Path | None = None  # a fault plan (reference_stack/local/faults.py)
    # Presigned upload and download URLs' validity (None: the functions' default, 300 s).
    media_url_ttl: int | None = None
    # The length of a lifecycle rule's "day" (S3: 86,400 s); shorter to see expiry in tests.
    lifecycle_day: float = 86400.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StageConfig:
        """Defaults, overridden by ``CHATSTACK_LOCAL_*`` (stage) and ``CHATSTACK_*`` (handlers)."""
        env = os.environ if env is None else env
        config = cls(
            host=env.get("CHATSTACK_LOCAL_HOST", "127.0.0.1"),
            stage=env.get("CHATSTACK_LOCAL_STAGE", "dev"),
            rest_port=_env_int(env, "CHATSTACK_LOCAL_REST_PORT", 8000),
            ws_port=_env_int(env, "CHATSTACK_LOCAL_WS_PORT", 8001),
            web_port=_env_int(env, "CHATSTACK_LOCAL_WEB_PORT", 8002),
            media_port=_env_int(env, "CHATSTACK_LOCAL_MEDIA_PORT", 0),
            lifecycle_day=_env_float(env, "CHATSTACK_LOCAL_LIFECYCLE_DAY", 86400.0),
            bcrypt_rounds=_env_int(env, "CHATSTACK_BCRYPT_ROUNDS", 12),
            token_ttl_seconds=_env_int(env, "CHATSTACK_TOKEN_TTL_SECONDS", 86400),
            idle_timeout=_env_float(env, "CHATSTACK_LOCAL_IDLE_TIMEOUT", 600.0),
            max_connection_duration=_env_float(
                env, "CHATSTACK_LOCAL_MAX_CONNECTION_DURATION", 7200.0
            ),
            workers=_env_int(env, "CHATSTACK_LOCAL_WORKERS", 32),
            max_unread_bytes=_env_int(env, "CHATSTACK_LOCAL_MAX_UNREAD_BYTES", 1024 * 1024),
            heartbeat=_env_float(env, "CHATSTACK_LOCAL_HEARTBEAT", 30.0),
            process_functions=process_functions(
                env.get("CHATSTACK_LOCAL_PROCESS_FUNCTIONS", "all")
            ),
            function_processes={
                **_default_processes(),
                **parse_counts(env.get("CHATSTACK_LOCAL_FUNCTION_PROCESSES") or ""),
            },
            handler_log_level=env.get("CHATSTACK_LOCAL_HANDLER_LOG_LEVEL", "INFO"),
            dynamodb=env.get("CHATSTACK_LOCAL_DYNAMODB") or "local",
            dynamodb_endpoint=env.get("CHATSTACK_LOCAL_DYNAMODB_ENDPOINT") or None,
        )
        if env.get("CHATSTACK_LOCAL_DYNAMODB_LOCAL_DIR"):
            config.dynamodb_local_dir = Path(env["CHATSTACK_LOCAL_DYNAMODB_LOCAL_DIR"])
        if env.get("CHATSTACK_LOCAL_FAULTS"):
            config.faults = Path(env["CHATSTACK_LOCAL_FAULTS"])
        if env.get("CHATSTACK_LOCAL_DYNAMODB_DATA_DIR"):
            config.dynamodb_data_dir = Path(env["CHATSTACK_LOCAL_DYNAMODB_DATA_DIR"])
        if env.get("CHATSTACK_LOCAL_MEDIA_URL_TTL"):
            config.media_url_ttl = int(env["CHATSTACK_LOCAL_MEDIA_URL_TTL"])
        if env.get("CHATSTACK_JWT_SECRET"):
            config.jwt_secret = env["CHATSTACK_JWT_SECRET"]
        if env.get("CHATSTACK_LOCAL_STAGE_FILE"):
            config.stage_file = Path(env["CHATSTACK_LOCAL_STAGE_FILE"])
        return config
