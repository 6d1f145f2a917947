"""How much load one Locust process of ``loadtests/`` generates: connected users it holds, and
broadcasts per second it receives and measures, against the raw floor server (so the server is
never the limit).

Two sweeps, each one Locust process (no ``--processes``), with ``loadtests/ramp.py`` so that every
figure comes from a steady window after all users connected:

1. *hold*: fan-out users stepped up (``--hold-steps``, default 2,000, 5,000, 10,000) in one room,
   one sender at ``--hold-rate`` messages/s: is every user connected and is every delivery
   measured? RSS per user, CPU.
2. *rate*: ``--rate-users`` users (default 1,000) in one room, ``--senders`` senders at each of
   ``--rates`` messages/s: received deliveries/s, latency, delivery, CPU.

    python -m benchmarks.loadgen_capacity
    python -m benchmarks.loadgen_capacity --hold-steps 2000 --rates 1,4 --markdown out.md
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.floor_server import running_floor
from benchmarks.locust_runs import run_locust

__all__ = ["main"]

MIB = 1024 * 1024


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def _common(floor: dict[str, Any], seconds: float, spawn_rate: float) -> list[str]:
    return [
        "--no-auth",
        "--stage-file",
        floor["stage_file"],
        "--ramp-step-seconds",
        f"{seconds:g}",
        "--ramp-spawn-rate",
        f"{spawn_rate:g}",
        "--ramp-past-knee",
        "--drain",
        "3",
    ]


def hold_sweep(floor: dict[str, Any], args: argparse.Namespace, work: Path) -> list[dict]:
    steps = ",".join(str(n) for n in args.hold_steps)
    extra = ["--ramp-steps", steps, "--senders", "1", "--send-rate", f"{args.hold_rate:g}"]
    run, sampler = run_locust(
        "loadtests/ramp.py",
        _common(floor, args.step_seconds, args.spawn_rate) + extra,
        work,
        "hold",
        timeout=600 + 120 * len(args.hold_steps),
        watch={"floor": floor["pid"]},
    )
    # KiB/user: the RSS added per user connected since the step before (or since start-up)
    previous_rss, previous_users = (run.samples[2][2] if len(run.samples) > 2 else 0), 0
    rows = []
    for step in run.steps():
        rss = sampler.rss_at("locust", step["end"]) or 0
        connected = step["connected"]
        added = connected - previous_users
        rows.append(
            {
                "users": step["users"],
                "connected": connected,
                "rss_mib": rss / MIB,
                "kib_per_user": (rss - previous_rss) / 1024 / added if added > 0 else None,
                "locust_cpu_pct": sampler.cpu_percent("locust", step["start"], step["end"]),
                "floor_cpu_pct": sampler.cpu_percent("floor", step["start"], step["end"]),
                "deliveries_per_s": step["deliveries_per_s"],
                "p50": step["broadcast"]["p50"],
                "p95": step["broadcast"]["p95"],
                "p99": step["broadcast"]["p99"],
                "delivery_pct": _pct(step["delivery"]["ratio"]),
                "failures": step["failures"],
            }
        )
        previous_rss, previous_users = rss, connected
    return rows


def rate_sweep(floor: dict[str, Any], args: argparse.Namespace, work: Path) -> list[dict]:
    rows = []
    for rate in args.rates:
        extra = ["--ramp-steps", str(args.rate_users), "--senders", str(args.senders)]
        extra += ["--send-rate", f"{rate:g}"]
        run, sampler = run_locust(
            "loadtests/ramp.py",
            _common(floor, args.step_seconds, args.spawn_rate) + extra,
            work,
            f"rate-{rate:g}",
            timeout=300,
            watch={"floor": floor["pid"]},
        )
        for step in run.steps():
            offered = args.senders * rate * step["users"]
            rows.append(
                {
                    "users": step["users"],
                    "senders": args.senders,
                    "messages_per_s": step["messages_per_s"],
                    "offered_per_s": offered,
                    "deliveries_per_s": step["deliveries_per_s"],
                    "p50": step["broadcast"]["p50"],
                    "p95": step["broadcast"]["p95"],
                    "p99": step["broadcast"]["p99"],
                    "delivery_pct": _pct(step["delivery"]["ratio"]),
                    "locust_cpu_pct": sampler.cpu_percent("locust", step["start"], step["end"]),
                    "floor_cpu_pct": sampler.cpu_percent("floor", step["start"], step["end"]),
                    "failures": step["failures"],
                }
            )
    return rows


def _pct(ratio: float | None) -> float | None:
    return None if ratio is None else 100 * ratio


def _cell(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown(hold: list[dict], rate: list[dict]) -> str:
    out = []
    if hold:
        out += [
            "**Hold** — fan-out users in one room, 1 sender; one Locust process:",
            "",
            "| users | connected | locust RSS MiB | KiB/user | locust CPU % | floor CPU % "
            "| deliveries/s | p50 ms | p95 ms | p99 ms | delivery % | failures |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in hold:
            out.append(
                f"| {_cell(r['users'])} | {_cell(r['connected'])} | {_cell(r['rss_mib'])} "
                f"| {_cell(r['kib_per_user'], 1)} | {_cell(r['locust_cpu_pct'])} "
                f"| {_cell(r['floor_cpu_pct'])} | {_cell(r['deliveries_per_s'])} "
                f"| {_cell(r['p50'])} | {_cell(r['p95'])} | {_cell(r['p99'])} "
                f"| {_cell(r['delivery_pct'], 2)} | {_cell(r['failures'])} |"
            )
        out.append("")
    if rate:
        out += [
            f"**Rate** — fan-out, one room, {rate[0]['senders']} senders; one Locust process:",
            "",
            "| users | messages/s | offered deliveries/s | received/s | p50 ms | p95 ms | p99 ms "
            "| delivery % | locust CPU % | floor CPU % | failures |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rate:
            out.append(
                f"| {_cell(r['users'])} | {_cell(r['messages_per_s'], 1)} "
                f"| {_cell(r['offered_per_s'], 0)} | {_cell(r['deliveries_per_s'])} "
                f"| {_cell(r['p50'])} | {_cell(r['p95'])} | {_cell(r['p99'])} "
                f"| {_cell(r['delivery_pct'], 2)} | {_cell(r['locust_cpu_pct'])} "
                f"| {_cell(r['floor_cpu_pct'])} | {_cell(r['failures'])} |"
            )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hold-steps", type=_ints, default=[2000, 5000, 10000])
    parser.add_argument("--hold-rate", type=float, default=0.5, help="messages/s of the sender")
    parser.add_argument("--rate-users", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=5)
    parser.add_argument("--rates", type=_floats, default=[1.0, 2.0, 4.0, 8.0])
    parser.add_argument("--step-seconds", type=float, default=20.0)
    parser.add_argument("--spawn-rate", type=float, default=500.0)
    parser.add_argument("--workdir", type=Path, help="keep the Locust logs and summaries here")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("--markdown", type=Path, help="write the tables as Markdown")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chatstack-loadgen-") as tmp:
        work = args.workdir or Path(tmp)
        with running_floor() as floor:
            hold = hold_sweep(floor, args, work) if args.hold_steps else []
            rate = rate_sweep(floor, args, work) if args.rates else []
    table = markdown(hold, rate)
    print(table)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table, encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"hold": hold, "rate": rate}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
