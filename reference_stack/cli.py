"""The ``chatstack`` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

__all__ = ["main"]


def _up(args: argparse.Namespace) -> int:
    from reference_stack.local import logs
    from reference_stack.local.config import StageConfig, parse_counts, process_functions
    from reference_stack.local.errors import StageError
    from reference_stack.local.stage import LocalStage

    config = StageConfig.from_env()
    for name in (
        "host",
        "stage",
        "rest_port",
        "ws_port",
        "web_port",
        "bcrypt_rounds",
        "idle_timeout",
        "max_connection_duration",
        "workers",
        "jwt_secret",
        "token_ttl_seconds",
        "disconnect_delay",
        "shard_threshold",
        "shard_size",
        "dynamodb",
        "dynamodb_endpoint",
        "max_unread_bytes",
        "heartbeat",
        "media_port",
        "media_url_ttl",
        "lifecycle_day",
    ):
        value = getattr(args, name)
        if value is not None:
            setattr(config, name, value)
    if args.stage_file is not None:
        config.stage_file = Path(args.stage_file)
    if args.process_functions is not None:
        config.process_functions = process_functions(args.process_functions)
    if args.function_processes is not None:
        try:
            config.function_processes.update(parse_counts(args.function_processes))
        except ValueError as exc:
            print(f"chatstack: --function-processes: {exc}", file=sys.stderr)
            return 2
    if args.stack is not None:
        config.stack_file = Path(args.stack)
    if args.faults is not None:
        config.faults = Path(args.faults)
    if args.dynamodb_data_dir is not None:
        config.dynamodb_data_dir = Path(args.dynamodb_data_dir)
    if config.dynamodb not in ("local", "moto"):
        print("chatstack: --dynamodb must be local or moto", file=sys.stderr)
        return 2
    if config.media_url_ttl is not None and not 1 <= config.media_url_ttl <= 900:
        print("chatstack: --media-url-ttl must be 1-900 seconds", file=sys.stderr)
        return 2
    if config.lifecycle_day <= 0:
        print("chatstack: --lifecycle-day must be above 0 seconds", file=sys.stderr)
        return 2
    if config.bcrypt_rounds < 10:
        print("chatstack: --bcrypt-rounds must be at least 10", file=sys.stderr)
        return 2
    logs.setup()
    try:
        stage = LocalStage(config)
    except StageError as exc:
        print(f"chatstack: {exc}", file=sys.stderr)
        return 2

    async def run() -> None:
        await stage.serve_until_signalled()

    async def announce_and_run() -> None:
        task = asyncio.create_task(run())
        while stage.urls is None and not task.done():
            await asyncio.sleep(0.05)
        if stage.urls is not None:
            print(f"REST API:      {stage.urls.rest_url}", flush=True)
            print(f"WebSocket API: {stage.urls.ws_url}", flush=True)
            print(f"Web app:       {stage.urls.web_url}", flush=True)
            print(f"Media (S3):    {stage.urls.s3_url}", flush=True)
            print("Press Ctrl-C to stop.", flush=True)
        await task

    try:
        asyncio.run(announce_and_run())
    except StageError as exc:
        print(f"chatstack: the local stage cannot start: {exc}", file=sys.stderr)
        return 1
    if stage.failure is not None:
        print(f"chatstack: {stage.failure}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["conform"]:
        from conformance.cli import main as conform

        return conform(argv[1:])
    parser = argparse.ArgumentParser(prog="chatstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the local stage until Ctrl-C")
    up.add_argument("--host", help="loopback address to listen on (default 127.0.0.1)")
    up.add_argument("--stage", help="stage name in the URLs (default dev)")
    up.add_argument("--rest-port", type=int, help="REST API port (default 8000; 0 = any free)")
    up.add_argument("--ws-port", type=int, help="WebSocket API port (default 8001; 0 = any free)")
    up.add_argument("--web-port", type=int, help="web app port (default 8002; 0 = any free)")
    up.add_argument(
        "--media-port",
        type=int,
        help="the S3 endpoint's port (default 0 = any free: the app learns it from the API)",
    )
    up.add_argument("--stage-file", help="write the stage URLs here as JSON")
    up.add_argument("--bcrypt-rounds", type=int, help="bcrypt cost (default 12, minimum 10)")
    up.add_argument("--token-ttl-seconds", type=int, help="token lifetime (default 86400)")
    up.add_argument("--jwt-secret", help="signing key (default: random per start)")
    up.add_argument("--idle-timeout", type=float, help="seconds (default 600, as API Gateway)")
    up.add_argument(
        "--max-connection-duration", type=float, help="seconds (default 7200, as API Gateway)"
    )
    up.add_argument("--workers", type=int, help="handler worker threads (default 32)")
    up.add_argument(
        "--process-functions",
        help="functions run in sandboxes (worker processes) of their own, comma-separated: "
        "'all' (default) or '' for none (threads of the stage's process)",
    )
    up.add_argument(
        "--function-processes",
        help="most sandboxes (processes) of a function at once, started on demand, as "
        "name=N,... (default: a stream's function one per lane of its mapping, e.g. "
        "broadcaster=4; fanout_shard=8; signup and login one per core but one; others 4)",
    )
    up.add_argument(
        "--stack", help="another stack definition (default: reference_stack/stack.json)"
    )
    up.add_argument(
        "--disconnect-delay",
        type=float,
        help="seconds between a close and its $disconnect (default 0)",
    )
    up.add_argument(
        "--shard-threshold",
        type=int,
        help="rooms with more members are fanned out in shards (default 500)",
    )
    up.add_argument("--shard-size", type=int, help="recipients per shard (default 250)")
    up.add_argument(
        "--dynamodb",
        choices=("local", "moto"),
        help="the DynamoDB and DynamoDB Streams behind the stage: AWS's DynamoDB Local "
        "(default) or moto",
    )
    up.add_argument(
        "--dynamodb-endpoint",
        help="a DynamoDB Local already running, shared with other stages (each stage makes "
        "tables of its own there and deletes them when it stops)",
    )
    up.add_argument(
        "--max-unread-bytes",
        type=int,
        help="a client with more bytes sent to it and unread is cut off (default 1 MiB)",
    )
    up.add_argument(
        "--heartbeat",
        type=float,
        help="seconds between the stage's pings; a peer that misses one is dropped "
        "(default 30; 0: none)",
    )
    up.add_argument(
        "--faults",
        help="a fault plan (JSON): DynamoDB errors, @connections answers, crashed and killed "
        "workers, restarts — seeded, so a run repeats (README: Faults)",
    )
    up.add_argument(
        "--dynamodb-data-dir",
        help="keep DynamoDB Local's tables on disk in this folder (they survive its restart; "
        "default: in memory)",
    )
    up.add_argument(
        "--media-url-ttl",
        type=int,
        help="seconds presigned upload and download URLs work (default 300; 1-900)",
    )
    up.add_argument(
        "--lifecycle-day",
        type=float,
        help="seconds in a day of the media bucket's lifecycle rules (default 86400: "
        "unattached uploads go after a day)",
    )
    up.set_defaults(run=_up)
    commands.add_parser(
        "conform", add_help=False, help="check a stage against the contract (see conform --help)"
    )
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
