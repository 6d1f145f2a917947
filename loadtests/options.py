"""The locustfile's own command-line options, each also settable as ``LOCUST_<NAME>`` or in
``locust.conf``. Registered from an ``init_command_line_parser`` listener; no locust import here."""

from __future__ import annotations

from typing import Any

__all__ = ["add_arguments"]


def _add(parser: Any, flag: str, help_: str, *, ui: bool = True, **kwargs: Any) -> None:
    env = "LOCUST_" + flag.lstrip("-").replace("-", "_").upper()
    parser.add_argument(
        flag, help=f"{help_} [env {env}]", env_var=env, include_in_web_ui=ui, **kwargs
    )


def add_arguments(parser: Any) -> None:
    """Add the chatstack options to Locust's ``parser`` (a ``LocustArgumentParser``)."""
    _add(
        parser,
        "--ws-url",
        "the stage's WebSocket URL (with --host = its REST URL), or several separated by "
        "commas that the users spread over; neither this, --host nor --stage-file: a local "
        "stage is started for the run",
        default="",
    )
    _add(
        parser,
        "--stage-file",
        "a stage file: the local stage's {rest_url, ws_url} or `terraform output -json`",
        ui=False,
        default="",
    )
    _add(
        parser,
        "--no-auth",
        "no REST calls: connect with a dummy token (for benchmarks.floor_server)",
        ui=False,
        action="store_true",
        default=False,
    )
    _add(
        parser,
        "--users-file",
        "pre-provisioned accounts, JSON lines {email, password[, token]} from "
        "`python -m loadtests.provision`, shared round-robin; without it every user signs up",
        ui=False,
        default="",
    )
    _add(
        parser,
        "--reuse-tokens",
        "take each account's token from --users-file instead of POST /login",
        ui=False,
        action="store_true",
        default=False,
    )

    _add(parser, "--senders", "fan-out: how many users talk in the room", type=int, default=2)
    _add(parser, "--send-rate", "messages/s of each talking user", type=float, default=1.0)
    _add(
        parser, "--rooms", "many-rooms: how many rooms the users spread over", type=int, default=10
    )
    _add(
        parser,
        "--attachment-share",
        "media: the share (0-1) of messages that carry an uploaded file",
        type=float,
        default=0.5,
    )
    _add(
        parser,
        "--upload-bytes",
        "media: the size of each uploaded file (a PNG, within the stage's 10 MiB limit)",
        type=int,
        default=32 * 1024,
    )
    _add(
        parser,
        "--hold-until-connected",
        "talking users stay quiet until every user of their process is connected and in its "
        "rooms, so latencies and delivery are those of the steady state",
        action="store_true",
        default=False,
    )
    _add(
        parser,
        "--connect-concurrency",
        "at most N handshakes (+ joins) in flight per process, 0 = no limit; a slow stage then "
        "sets the pace of the ramp-up instead of timing connections out",
        type=int,
        default=0,
    )
    _add(parser, "--message-bytes", "length of each message text", type=int, default=64)
    _add(
        parser,
        "--direct-share",
        "chats: the share of chats that are direct (of two); the others are groups",
        type=float,
        default=0.5,
    )
    _add(
        parser,
        "--group-size",
        "chats: participants of each group chat (3 or more; below 3: every chat is direct)",
        type=int,
        default=4,
    )
    _add(
        parser,
        "--chat-setup-timeout",
        "chats: seconds a user waits for the others of its chat to arrive and the chat to be "
        "created (users of a chat never completed stay silent)",
        type=float,
        default=60.0,
    )
    _add(
        parser,
        "--churn-hold",
        "churn: a connection stays open a random 0..N s before it closes",
        type=float,
        default=5.0,
    )
    _add(
        parser,
        "--ramp-steps",
        "ramp: the users of each step, e.g. 10,100,500,1000 (instead of start/step/max)",
        default="",
    )
    _add(parser, "--ramp-start-users", "ramp: users of the first step", type=int, default=50)
    _add(parser, "--ramp-step-users", "ramp: users added at each step", type=int, default=50)
    _add(parser, "--ramp-step-seconds", "ramp: length of each step", type=float, default=30.0)
    _add(parser, "--ramp-max-users", "ramp: users of the last step", type=int, default=1000)
    _add(parser, "--ramp-spawn-rate", "ramp: users started per second", type=float, default=20.0)
    _add(
        parser,
        "--ramp-warmup-seconds",
        "ramp: an unjudged first step of this many seconds at the first step's users",
        type=float,
        default=0.0,
    )
    _add(
        parser,
        "--ramp-past-knee",
        "ramp: run every step, even after one crossed a threshold",
        action="store_true",
        default=False,
    )
    _add(
        parser,
        "--ramp-setup-timeout",
        "ramp: longest wait for a step's users to connect before it is measured anyway",
        type=float,
        default=900.0,
    )
    _add(
        parser,
        "--ramp-required-users",
        "ramp: the run passes when no step up to this many users crosses a threshold "
        "(default: --ramp-max-users)",
        type=int,
        default=0,
    )

    _add(
        parser,
        "--delivery-grace",
        "seconds around a leave or close in which a delivery is neither expected nor counted",
        type=float,
        default=2.0,
    )
    _add(
        parser,
        "--drain",
        "seconds between the stop of sending and closing the delivery books (>= grace)",
        type=float,
        default=5.0,
    )
    _add(
        parser, "--ack-timeout", "seconds a sendMessage waits for its ack", type=float, default=10.0
    )
    _add(parser, "--connect-timeout", "seconds for a WebSocket handshake", type=float, default=10.0)

    _add(parser, "--send-p95-ms", "sendMessage ack p95 at most", type=float, default=100.0)
    _add(parser, "--broadcast-p95-ms", "broadcast latency p95 at most", type=float, default=200.0)
    _add(parser, "--min-delivery", "delivery ratio at least, %%", type=float, default=100.0)
    _add(parser, "--max-error-rate", "failed operations below, %%", type=float, default=0.1)
    _add(
        parser,
        "--summary-json",
        "write the verdict, the delivery tally and per-type latencies as JSON",
        ui=False,
        default="",
    )
