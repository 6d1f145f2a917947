"""``chatstack conform``: run the conformance suite against a stage, for CI and people.

Exit status (``conformance.verdicts.EXIT_CODES``): 0 conformant (SHOULD failures are reported but
pass unless ``--strict``); 1 a check failed; 2 interrupted or a bad command line; 3 pytest's
internal error; 4 a usage error; 5 no check selected; 6 a harness error (no check failed, but
at least one could not be judged).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance.verdicts import EXIT_CODES

__all__ = ["main"]

PACKAGE = Path(__file__).resolve().parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatstack conform",
        description="Check a chatstack stage against the contract (conformance/CONTRACT.md).",
        epilog="Without a target, a local stage is started for the run. Any other arguments go "
        "to pytest (e.g. -k BCAST, -x, -v). Exit codes: "
        + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items())
        + ".",
    )
    target = parser.add_argument_group("target (default: a fresh local stage)")
    target.add_argument(
        "--stage", metavar="FILE", help="stage file: the local stage's or `terraform output -json`"
    )
    target.add_argument("--rest-url", help="the stage's REST API URL")
    target.add_argument("--ws-url", help="the stage's WebSocket API URL")
    target.add_argument("--jwt-secret", help="the stage's signing key, to check token expiry")
    target.add_argument(
        "--jwt-secret-param",
        metavar="NAME",
        help="an SSM parameter holding the signing key (a deployed stage: "
        "/chatstack/STAGE/jwt-secret), read with your own AWS credentials",
    )
    target.add_argument(
        "--idle-timeout",
        type=float,
        metavar="S",
        help="the target closes idle connections after S seconds (checks LIFE-005)",
    )
    target.add_argument(
        "--max-connection-duration",
        type=float,
        metavar="S",
        help="the target closes connections after S seconds (checks LIFE-006)",
    )
    target.add_argument(
        "--max-url-wait",
        type=float,
        metavar="S",
        help="wait up to S seconds for a presigned URL to expire (checks MEDIA-014; default 60)",
    )
    run = parser.add_argument_group("the run")
    run.add_argument(
        "--profile",
        default=None,
        help="profiles the stage implements (default core,chats,receipts,media; core: a v1 stage)",
    )
    run.add_argument("--timeout", type=float, help="seconds for every wait (default 5)")
    run.add_argument(
        "--strict",
        action="store_true",
        help="a failed SHOULD check, or a listed check that passed, fails the run too",
    )
    run.add_argument(
        "--expect-fail",
        metavar="FILE",
        help="checks expected to fail, one `ID reason` per line: reported, not failing the run",
    )
    run.add_argument("-n", "--workers", help="run checks in parallel (pytest-xdist)")
    limits = parser.add_argument_group("latency limits of the SHOULD checks (seed 001)")
    for name, default in (("rest", 200), ("connect", 300), ("send", 100), ("broadcast", 200)):
        limits.add_argument(
            f"--max-{name}-p95-ms", type=float, metavar="MS", help=f"default {default}"
        )
    reports = parser.add_argument_group("reports")
    reports.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report")
    reports.add_argument("--results-json", metavar="PATH", help="write every verdict as JSON")
    reports.add_argument("--html-report", metavar="PATH", help="write a self-contained HTML report")
    return parser


def pytest_arguments(args: argparse.Namespace, extra: list[str]) -> list[str]:
    """The pytest command line for ``args``."""
    argv = [str(PACKAGE / "checks"), "-c", str(PACKAGE / "pytest.ini"), "--rootdir", str(PACKAGE)]
    for option, value in (
        ("--stage", args.stage),
        ("--rest-url", args.rest_url),
        ("--ws-url", args.ws_url),
        ("--jwt-secret", args.jwt_secret),
        ("--jwt-secret-param", args.jwt_secret_param),
        ("--idle-timeout", args.idle_timeout),
        ("--max-connection-duration", args.max_connection_duration),
        ("--max-url-wait", args.max_url_wait),
        ("--profile", args.profile),
        ("--conformance-timeout", args.timeout),
        ("--expect-fail", args.expect_fail),
        ("--max-rest-p95-ms", args.max_rest_p95_ms),
        ("--max-connect-p95-ms", args.max_connect_p95_ms),
        ("--max-send-p95-ms", args.max_send_p95_ms),
        ("--max-broadcast-p95-ms", args.max_broadcast_p95_ms),
        ("--conformance-junit-xml", args.junit_xml),
        ("--results-json", args.results_json),
        ("--html-report", args.html_report),
        ("-n", args.workers),
    ):
        if value is not None:
            argv += [option, str(value)]
    if args.strict:
        argv.append("--conformance-strict")
    return argv + extra


def main(argv: list[str] | None = None) -> int:
    import pytest

    args, extra = build_parser().parse_known_args(argv)
    return int(pytest.main(pytest_arguments(args, extra)))
