"""Chaos run: the load tests' fan-out and rooms scenarios against a local stage under each
fault of the plan (``chatstack up --faults``), one fresh stage per run; writes a results table.

    python -m benchmarks.chaos                      # every fault, both scenarios
    python -m benchmarks.chaos --scenarios rooms --faults "none,dynamodb errors"
    python -m benchmarks.chaos --users 20 --seconds 25 --out docs/benchmarks/chaos

For each run: delivered % (received / owed, the load tests' books), duplicates (a message
received twice by one member), errors clients saw (failed requests, by kind), broadcast latency
p95 and max (the max is the recovery time: how long the worst-hit message took to arrive),
and how many faults were injected.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.lanes import stack_args
from benchmarks.locust_runs import run_locust
from benchmarks.stage import REPO_ROOT
from conformance.target import LocalStage

FAULTS: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "dynamodb errors": [
        {"kind": "dynamodb", "error": "throttling", "rate": 0.05},
        {"kind": "dynamodb", "error": "internal", "rate": 0.02},
        {"kind": "dynamodb", "error": "unavailable", "rate": 0.02},
    ],
    "dynamodb timeouts": [{"kind": "dynamodb", "error": "timeout", "rate": 0.01, "delay": 6}],
    "@connections 5xx/429": [
        {"kind": "connections", "answer": 500, "rate": 0.03},
        {"kind": "connections", "answer": 503, "rate": 0.02},
        {"kind": "connections", "answer": 429, "rate": 0.03},
    ],
    "@connections malformed": [{"kind": "connections", "answer": "malformed", "rate": 0.03}],
    "@connections slow": [{"kind": "connections", "delay": 6, "rate": 0.005}],
    "@connections 410": [{"kind": "connections", "answer": 410, "rate": 0.002, "times": 3}],
    "broadcaster crash": [
        {"kind": "crash", "function": "broadcaster", "after_posts": 10, "times": 3}
    ],
    "worker killed": [{"kind": "kill", "function": "broadcaster", "at": 5, "every": 5}],
    "poller restarted": [{"kind": "restart", "part": "poller", "at": 3, "every": 4}],
    "DynamoDB restarted": [{"kind": "restart", "part": "dynamodb", "at": 8}],
    "moto restarted": [{"kind": "restart", "part": "moto", "at": 5}],
}
SCENARIOS = ("fanout", "rooms")


def _injected(log: Path) -> int:
    count = 0
    for line in log.read_text(errors="replace").splitlines():
        if '"fault injected"' in line:
            count += 1
    return count


def _errors(summary: dict[str, Any]) -> tuple[int, str]:
    """Failed client requests (duplicates apart: they are counted on their own)."""
    total, kinds = 0, {}
    for error in summary.get("errors", []):
        if "twice" in error["error"] or "Duplicate" in error["error"]:
            continue
        total += error["count"]
        key = f"{error['type']}: {error['error'][:40]}"
        kinds[key] = kinds.get(key, 0) + error["count"]
    shown = "; ".join(f"{k} ×{n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:2])
    return total, shown


def run_one(
    scenario: str, name: str, faults: list[dict[str, Any]], args: argparse.Namespace, work: Path
) -> dict[str, Any]:
    plan = work / f"{scenario}-{name.replace(' ', '_').replace('/', '-')}.json"
    plan.write_text(json.dumps({"seed": args.seed, "faults": faults}))
    stage_args = (["--faults", str(plan)] if faults else []) + stack_args(args.lanes)
    os.environ.pop("CHATSTACK_LOCAL_DYNAMODB_ENDPOINT", None)  # a DynamoDB Local of its own
    stage = LocalStage(*stage_args, workdir=work / plan.stem)
    started = time.monotonic()
    try:
        locust_args = [
            "--tags",
            scenario,
            "-u",
            str(args.users),
            "-r",
            str(args.users),
            "-t",
            f"{args.seconds}s",
            "--host",
            stage.rest_url,
            "--ws-url",
            stage.ws_url,
            "--send-rate",
            "1",
            "--drain",
            str(args.drain),
            "--delivery-grace",
            "15",
        ]
        if scenario == "fanout":
            locust_args += ["--senders", "4"]
        else:
            locust_args += ["--rooms", "5"]
        run, _ = run_locust(
            "loadtests/locustfile.py",
            locust_args,
            work,
            plan.stem,
            timeout=args.seconds + 180,
        )
    finally:
        stage.stop()
        if args.keep is not None:  # the stage's log and the run's summary, to look into
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(stage.stderr, args.keep / f"{plan.stem}.stage.log")
            if (work / f"{plan.stem}.json").exists():
                shutil.copyfile(work / f"{plan.stem}.json", args.keep / f"{plan.stem}.json")
    summary = run.summary
    delivery = summary.get("delivery", {})
    broadcast = summary.get("requests", {}).get("broadcast", {})
    errors, kinds = _errors(summary)
    return {
        "scenario": scenario,
        "fault": name,
        "injected": _injected(stage.stderr),
        "delivered_pct": round(100 * delivery.get("ratio", 0.0), 2)
        if delivery.get("expected")
        else None,
        "expected": delivery.get("expected"),
        "missing": delivery.get("missing"),
        "duplicates": delivery.get("duplicates"),
        "client_errors": errors,
        "error_kinds": kinds,
        "broadcast_p95_ms": broadcast.get("p95"),
        "recovery_ms": broadcast.get("max"),
        "seconds": round(time.monotonic() - started, 1),
    }


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| scenario | fault | injected | delivered | missing | duplicates | client errors | "
        "broadcast p95 | recovery (max) |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        errors = f"{r['client_errors']}" + (f" ({r['error_kinds']})" if r["error_kinds"] else "")
        delivered = "—" if r["delivered_pct"] is None else f"{r['delivered_pct']} %"
        lines.append(
            f"| {r['scenario']} | {r['fault']} | {r['injected']} | {delivered} "
            f"| {r['missing']} | {r['duplicates']} | {errors} | {r['broadcast_p95_ms']} ms "
            f"| {r['recovery_ms']} ms |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--faults", default=",".join(FAULTS), help="names, comma-separated")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=25)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--out", type=Path, help="append the rows to OUT.csv")
    parser.add_argument("--keep", type=Path, help="keep each stage's log and summary here")
    parser.add_argument("--drain", type=int, default=20, help="seconds for late deliveries")
    parser.add_argument("--lanes", type=int, help="the broadcaster's lanes (default: stack.json)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.faults.split(",") if n.strip()]
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        parser.error(f"unknown faults {unknown}; known: {', '.join(FAULTS)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="chatstack-chaos-") as folder:
        for scenario in args.scenarios.split(","):
            for name in names:
                row = run_one(scenario, name, FAULTS[name], args, Path(folder))
                print(json.dumps(row), flush=True)
                rows.append(row)
    print(_table(rows))
    if args.out is not None:
        csv_path = args.out.with_suffix(".csv")
        new = not csv_path.exists()
        with csv_path.open("a", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            if new:
                writer.writeheader()
            writer.writerows(rows)
        print(f"rows appended to {csv_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
