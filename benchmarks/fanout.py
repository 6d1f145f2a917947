"""Fan-out (scenario a) at 100, 500, 1,000 and 2,000 users: the local stage — with its default
sharding, and again with sharding off — against the raw floor server, in one run, with the same
Locust load.

Both targets get ``loadtests/ramp.py`` with ``--ramp-steps`` = the sizes: users in one room,
``--senders`` of them talking at ``--send-rate`` messages/s each; every step is measured for
``--step-seconds`` once all its users are connected (the set-up is never measured). The stage's
users are signed up beforehand (``loadtests.provision``, shared round-robin, tokens reused), and
its connections are opened eight at a time (``--connect-concurrency 8``).

Writes ``docs/benchmarks/fanout.md`` and ``.csv``: p50/p95/p99 broadcast latency, delivery and
messages/s per size and target, and the stage/floor ratios. Goal: at 1,000 users the stage
delivers 100 % with a p99 within 3x the floor's.

    python -m benchmarks.fanout
    python -m benchmarks.fanout --sizes 100,1000 --step-seconds 20 --out /tmp/fanout
    python -m benchmarks.fanout --stage-args "--shard-size 500" --skip-unsharded
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.floor_server import running_floor
from benchmarks.locust_runs import run_locust
from benchmarks.stage import REPO_ROOT, running_stage
from loadtests.accounts import write_users_file
from loadtests.provision import provision

__all__ = ["main"]

GOAL_P99_RATIO = 3.0
TARGETS = ("floor", "stage", "stage-unsharded")
UNSHARDED = 1_000_000  # a --shard-threshold no room reaches
FIELDS = [
    "target",
    "users",
    "connected",
    "messages_per_s",
    "deliveries_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "ack_p95_ms",
    "delivery_pct",
    "missing",
    "failures",
]


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _load_args(args: argparse.Namespace) -> list[str]:
    return [
        "--ramp-steps",
        ",".join(str(n) for n in args.sizes),
        "--ramp-step-seconds",
        f"{args.step_seconds:g}",
        "--ramp-past-knee",
        "--senders",
        str(args.senders),
        "--send-rate",
        f"{args.send_rate:g}",
        "--drain",
        "5",
        "--ramp-warmup-seconds",
        f"{args.warmup_seconds:g}",
    ]


def _rows(target: str, summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for step in summary.get("steps", []):
        ratio = step["delivery"]["ratio"]
        rows.append(
            {
                "target": target,
                "users": step["users"],
                "connected": step["connected"],
                "messages_per_s": round(step["messages_per_s"], 2),
                "deliveries_per_s": round(step["deliveries_per_s"], 1),
                "p50_ms": step["broadcast"]["p50"],
                "p95_ms": step["broadcast"]["p95"],
                "p99_ms": step["broadcast"]["p99"],
                "ack_p95_ms": step["send"]["p95"],
                "delivery_pct": None if ratio is None else round(100 * ratio, 3),
                "missing": step["delivery"]["missing"],
                "failures": step["failures"],
            }
        )
    return rows


def run_floor(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    with running_floor() as floor:
        extra = ["--no-auth", "--stage-file", floor["stage_file"], "--ramp-spawn-rate", "200"]
        run, _ = run_locust(
            "loadtests/ramp.py",
            _load_args(args) + extra,
            work,
            "locust-floor",
            timeout=args.timeout,
        )
    return _rows("floor", run.summary)


def run_stage(
    args: argparse.Namespace, work: Path, target: str, stage_args: tuple[str, ...]
) -> list[dict[str, Any]]:
    log_file = work / f"{target}.log"
    with running_stage(args.stage_file, log_file=log_file, stage_args=stage_args) as urls:
        stage_file = work / f"{target}-urls.json"
        stage_file.write_text(json.dumps(urls))
        started = time.monotonic()
        accounts = asyncio.run(provision(urls["rest_url"], args.accounts, tokens=True))
        users_file = work / f"{target}-users.jsonl"
        write_users_file(users_file, accounts)
        print(f"[{target}] {len(accounts)} accounts in {time.monotonic() - started:.1f} s")
        extra = ["--stage-file", str(stage_file), "--users-file", str(users_file)]
        extra += ["--reuse-tokens", "--connect-concurrency", "8", "--ramp-spawn-rate", "100"]
        run, _ = run_locust(
            "loadtests/ramp.py",
            _load_args(args) + extra,
            work,
            f"locust-{target}",
            timeout=args.timeout,
        )
    return _rows(target, run.summary)


def _ratio(stage: Any, floor: Any) -> float | None:
    if stage is None or floor in (None, 0):
        return None
    return stage / max(floor, 1.0)  # Locust rounds to whole ms: never divide by < 1 ms


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else str(value)


def report(args: argparse.Namespace, rows: list[dict[str, Any]], minutes: float) -> str:
    by = {(r["target"], r["users"]): r for r in rows}
    lines = [
        "# Fan-out: the local stage against the raw floor server",
        "",
        f"`python -m benchmarks.fanout --sizes {','.join(map(str, args.sizes))} "
        f"--step-seconds {args.step_seconds:g} --senders {args.senders} "
        f"--send-rate {args.send_rate:g}` — {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{platform.machine()}, Python {platform.python_version()}, {minutes:.1f} min.",
        "",
        f"One room; {args.senders} sender(s) at {args.send_rate:g} message/s each; every other "
        "user listens. Each size is measured for "
        f"{args.step_seconds:g} s after all its users are connected, after an unmeasured "
        f"{args.warmup_seconds:g} s warm-up at {args.sizes[0]} users. Latency = receive time − "
        "the sender's wall clock in the message, per recipient (Locust rounds to whole ms, to "
        "10 ms above 100 ms). One Locust process; stage, floor and Locust share 2 cores.",
        "",
        "`stage`: the local stage as it starts by default — rooms above "
        "`CHATSTACK_SHARD_THRESHOLD` (500) members are handed to the fan-out function in "
        "shards of 250, run by two worker processes. `stage-unsharded`: the same stage with "
        f"`--shard-threshold {UNSHARDED}`, the broadcaster posting every delivery itself.",
        "",
        "| users | target | messages/s | deliveries/s | p50 ms | p95 ms | p99 ms | ack p95 ms "
        "| delivery % | failures |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in args.sizes:
        for target in TARGETS:
            r = by.get((target, size))
            if r is None:
                continue
            lines.append(
                f"| {size:,} | {target} | {_cell(r['messages_per_s'])} "
                f"| {_cell(r['deliveries_per_s'])} | {_cell(r['p50_ms'])} | {_cell(r['p95_ms'])} "
                f"| {_cell(r['p99_ms'])} | {_cell(r['ack_p95_ms'])} | {_cell(r['delivery_pct'])} "
                f"| {_cell(r['failures'])} |"
            )
    lines += ["", "| users | target | p50 / floor | p95 / floor | p99 / floor |"]
    lines += ["|---:|---|---:|---:|---:|"]
    for size in args.sizes:
        for target in TARGETS[1:]:
            s, f = by.get((target, size)), by.get(("floor", size))
            if s and f:
                ratios = [_ratio(s[k], f[k]) for k in ("p50_ms", "p95_ms", "p99_ms")]
                cells = " | ".join("-" if x is None else f"{x:.1f}x" for x in ratios)
                lines.append(f"| {size:,} | {target} | {cells} |")
    goal = 1000 if 1000 in args.sizes else max(args.sizes)
    for target in TARGETS[1:]:
        s, f = by.get((target, goal)), by.get(("floor", goal))
        if s and f:
            ratio = _ratio(s["p99_ms"], f["p99_ms"])
            full = s["delivery_pct"] is not None and s["delivery_pct"] >= 100.0
            met = full and ratio is not None and ratio <= GOAL_P99_RATIO
            lines += [
                "",
                f"Goal at {goal:,} users, {target} — delivery 100 % and p99 within "
                f"{GOAL_P99_RATIO:g}x the floor: **{'met' if met else 'not met'}** (delivery "
                f"{_cell(s['delivery_pct'])} %, p99 {_cell(s['p99_ms'])} ms vs "
                f"{_cell(f['p99_ms'])} ms = {'-' if ratio is None else f'{ratio:.1f}x'}).",
            ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=[100, 500, 1000, 2000])
    parser.add_argument("--step-seconds", type=float, default=40.0)
    parser.add_argument(
        "--warmup-seconds", type=float, default=10.0, help="unmeasured first step (cold paths)"
    )
    parser.add_argument("--senders", type=int, default=1)
    parser.add_argument("--send-rate", type=float, default=0.5, help="messages/s per sender")
    parser.add_argument("--accounts", type=int, default=100, help="accounts the users share")
    parser.add_argument("--stage-file", type=Path, help="a running stage (default: start one)")
    parser.add_argument(
        "--stage-args", default="", help="for the stage started: chatstack up arguments, quoted"
    )
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--skip-stage", action="store_true")
    parser.add_argument(
        "--skip-unsharded", action="store_true", help="no second stage run without sharding"
    )
    parser.add_argument("--timeout", type=float, default=2400.0, help="per Locust run, s")
    parser.add_argument("--workdir", type=Path, help="keep logs and summaries here")
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks" / "fanout", help="prefix"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="chatstack-fanout-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if not args.skip_floor:
            rows += run_floor(args, work)
        if not args.skip_stage:
            stage_args = tuple(args.stage_args.split())
            rows += run_stage(args, work, "stage", stage_args)
            if not args.skip_unsharded and args.stage_file is None:
                unsharded = (*stage_args, "--shard-threshold", str(UNSHARDED))
                rows += run_stage(args, work, "stage-unsharded", unsharded)
    text = report(args, rows, (time.monotonic() - started) / 60)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    with args.out.with_suffix(".csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
