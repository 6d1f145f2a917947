"""How much load ``loadtests/`` generates: connected users and received broadcasts per second
per Locust process, and users across processes — against the raw floor server (so the server is
never the limit).

Three sweeps, with ``loadtests/ramp.py`` so that every figure comes from a steady window after
all users connected:

1. *hold*, one Locust process: fan-out users stepped up (``--hold-steps``, default 5,000,
   10,000, 15,000) in one room, one sender at ``--hold-rate`` messages/s: is every user connected
   and every delivery measured? RSS per user, CPU, CPU per delivery, latency.
2. *rate*, one Locust process: ``--rate-users`` users (default 1,000) in one room, ``--senders``
   senders at each of ``--rates`` messages/s: received deliveries/s, latency, delivery, CPU.
3. *multi*: ``--multi-steps`` users (e.g. 30,000, 50,000) in one room over Locust's
   ``--processes`` (``--multi-processes``, default: enough for ``--users-per-process``) and a
   floor of ``--floor-processes`` relaying processes: the books merged by the master, and its
   verdict.

The open-file limit (``ulimit -n``) caps the connections of one process — Locust's and the
floor's alike: it is read and printed first, and a sweep that cannot fit is refused before it
starts. Loopback has one ephemeral port range (~28,000 ports) per destination port: the floor's
processes listen on a port each.

    python -m benchmarks.loadgen_capacity
    python -m benchmarks.loadgen_capacity --hold-steps 2000 --rates 1,4 --markdown out.md
    python -m benchmarks.loadgen_capacity --hold-steps "" --rates "" --multi-steps 30000,50000
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.floor_server import running_floor
from benchmarks.locust_runs import run_locust
from loadtests.limits import RESERVED_FILES, open_files

__all__ = ["main"]

MIB = 1024 * 1024
PORT_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


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
        "--ramp-setup-timeout",
        "300",
        "--drain",
        "3",
    ]


def ephemeral_ports() -> int:
    """How many source ports loopback has per destination address and port."""
    try:
        low, high = (int(x) for x in PORT_RANGE.read_text().split())
    except (OSError, ValueError):
        return 28_000
    return high - low + 1


def _per_delivery_us(cpu_pct: float | None, per_s: float) -> float | None:
    return None if cpu_pct is None or per_s <= 0 else cpu_pct / 100 / per_s * 1e6


def plan(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """The machine's limits, the multi-process layout, and every reason the sweeps cannot run
    here — before any of them starts."""
    limits = open_files()
    ports = ephemeral_ports()
    per_process = limits.max_users
    problems = []
    if args.hold_steps and max(args.hold_steps) > per_process:
        problems.append(
            f"--hold-steps {max(args.hold_steps):,}: one process holds at most {per_process:,} "
            f"users here (ulimit -n {limits.hard:,}, {RESERVED_FILES} kept for Locust)"
        )
    layout: dict[str, Any] = {"open_files": limits.as_dict(), "ephemeral_ports": ports}
    if args.multi_steps:
        users = max(args.multi_steps)
        processes = args.multi_processes or math.ceil(users / args.users_per_process)
        floors = args.floor_processes or math.ceil(users / args.users_per_process)
        layout |= {"locust_processes": processes, "floor_processes": floors}
        for what, count in (("Locust worker", processes), ("floor", floors)):
            share = math.ceil(users / count)
            if share > per_process:
                problems.append(
                    f"--multi-steps {users:,} over {count} {what} processes: {share:,} "
                    f"connections each, above the {per_process:,} one process may hold here"
                )
        if math.ceil(users / floors) > ports - 1000:
            problems.append(
                f"--multi-steps {users:,} over {floors} floor ports: more connections per port "
                f"than loopback's {ports:,} ephemeral ports"
            )
    return layout, problems


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
    _check(run, "hold")
    rows = []
    for step in run.steps():
        rss = sampler.rss_at("locust", step["end"]) or 0
        connected = step["connected"]
        cpu = sampler.cpu_percent("locust", step["start"], step["end"])
        added = connected - previous_users
        rows.append(
            {
                "users": step["users"],
                "connected": connected,
                "rss_mib": rss / MIB,
                "kib_per_user": (rss - previous_rss) / 1024 / added if added > 0 else None,
                "locust_cpu_pct": cpu,
                "floor_cpu_pct": sampler.cpu_percent("floor", step["start"], step["end"]),
                "messages_per_s": step["messages_per_s"],
                "deliveries_per_s": step["deliveries_per_s"],
                "us_per_delivery": _per_delivery_us(cpu, step["deliveries_per_s"]),
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
        _check(run, f"rate-{rate:g}")
        for step in run.steps():
            offered = args.senders * rate * step["users"]
            cpu = sampler.cpu_percent("locust", step["start"], step["end"])
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
                    "locust_cpu_pct": cpu,
                    "us_per_delivery": _per_delivery_us(cpu, step["deliveries_per_s"]),
                    "floor_cpu_pct": sampler.cpu_percent("floor", step["start"], step["end"]),
                    "failures": step["failures"],
                }
            )
    return rows


def multi_sweep(floor: dict[str, Any], args: argparse.Namespace, work: Path, layout: dict) -> dict:
    """One distributed run (``--processes``) stepping through ``--multi-steps``."""
    steps = ",".join(str(n) for n in args.multi_steps)
    extra = ["--ramp-steps", steps, "--senders", "1", "--send-rate", f"{args.multi_rate:g}"]
    extra += ["--processes", str(layout["locust_processes"])]
    run, sampler = run_locust(
        "loadtests/ramp.py",
        _common(floor, args.step_seconds, args.spawn_rate) + extra,
        work,
        "multi",
        timeout=args.multi_timeout,
        watch={"floor": floor["pid"]},
    )
    _check(run, "multi")
    rows = []
    for step in run.steps():
        cpu = sampler.cpu_percent("locust", step["start"], step["end"])
        delivery = step["delivery"]
        rows.append(
            {
                "users": step["users"],
                "locust_processes": layout["locust_processes"],
                "floor_processes": layout["floor_processes"],
                "connected": step["connected"],
                "rss_mib": (sampler.rss_at("locust", step["end"]) or 0) / MIB,
                "locust_cpu_pct": cpu,
                "floor_cpu_pct": sampler.cpu_percent("floor", step["start"], step["end"]),
                "deliveries_per_s": step["deliveries_per_s"],
                "us_per_delivery": _per_delivery_us(cpu, step["deliveries_per_s"]),
                "p50": step["broadcast"]["p50"],
                "p95": step["broadcast"]["p95"],
                "p99": step["broadcast"]["p99"],
                "expected": delivery["expected"],
                "received": delivery["received"],
                "delivery_pct": _pct(delivery["ratio"]),
                "failures": step["failures"],
                "verdict": "PASS" if step["passed"] else "FAIL",
            }
        )
    return {
        "rows": rows,
        "verdict": "PASS" if run.summary.get("passed") else "FAIL",
        "checks": run.summary.get("checks", []),
        "delivery": run.summary.get("delivery", {}),
        "returncode": run.returncode,
    }


def _check(run: Any, label: str) -> None:
    if not run.summary:
        tail = run.log.read_text(errors="replace")[-2000:] if run.log.exists() else ""
        raise SystemExit(f"[{label}] Locust wrote no summary (exit {run.returncode}):\n{tail}")


def _pct(ratio: float | None) -> float | None:
    return None if ratio is None else 100 * ratio


def _cell(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown(layout: dict, hold: list[dict], rate: list[dict], multi: dict | None) -> str:
    files = layout["open_files"]
    out = [
        f"`{layout['command']}` — {layout['date']}, {platform.machine()}, Python "
        f"{platform.python_version()}, {layout['minutes']:.1f} min.",
        "",
        f"Open files (`ulimit -n`): soft {files['soft']:,}, hard {files['hard']:,} — one process "
        f"holds at most {files['max_users_per_process']:,} users; loopback ephemeral ports: "
        f"{layout['ephemeral_ports']:,} per destination port.",
        "",
    ]
    if hold:
        out += [
            f"**Hold** — fan-out users in one room, 1 sender at {hold[0]['rate']:g} message/s; "
            "one Locust process:",
            "",
            "| users | connected | locust RSS MiB | KiB/user | locust CPU % | floor CPU % "
            "| deliveries/s | µs CPU/delivery | p50 ms | p95 ms | p99 ms | delivery % | failures |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in hold:
            out.append(
                f"| {_cell(r['users'])} | {_cell(r['connected'])} | {_cell(r['rss_mib'])} "
                f"| {_cell(r['kib_per_user'], 1)} | {_cell(r['locust_cpu_pct'])} "
                f"| {_cell(r['floor_cpu_pct'])} | {_cell(r['deliveries_per_s'])} "
                f"| {_cell(r['us_per_delivery'])} "
                f"| {_cell(r['p50'])} | {_cell(r['p95'])} | {_cell(r['p99'])} "
                f"| {_cell(r['delivery_pct'], 2)} | {_cell(r['failures'])} |"
            )
        out.append("")
    if rate:
        out += [
            f"**Rate** — fan-out, one room, {rate[0]['senders']} senders; one Locust process:",
            "",
            "| users | messages/s | offered deliveries/s | received/s | p50 ms | p95 ms | p99 ms "
            "| delivery % | locust CPU % | µs CPU/delivery | floor CPU % | failures |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rate:
            out.append(
                f"| {_cell(r['users'])} | {_cell(r['messages_per_s'], 1)} "
                f"| {_cell(r['offered_per_s'], 0)} | {_cell(r['deliveries_per_s'])} "
                f"| {_cell(r['p50'])} | {_cell(r['p95'])} | {_cell(r['p99'])} "
                f"| {_cell(r['delivery_pct'], 2)} | {_cell(r['locust_cpu_pct'])} "
                f"| {_cell(r['us_per_delivery'])} "
                f"| {_cell(r['floor_cpu_pct'])} | {_cell(r['failures'])} |"
            )
        out.append("")
    if multi and multi["rows"]:
        first = multi["rows"][0]
        out += [
            f"**Multi** — fan-out users in one room, 1 sender at {first['rate']:g} message/s; "
            f"{first['locust_processes']} Locust "
            f"worker processes (`--processes`) and a master, {first['floor_processes']} floor "
            "processes; the master merges the books:",
            "",
            "| users | connected | locust RSS MiB | locust CPU % | floor CPU % | deliveries/s "
            "| µs CPU/delivery | p50 ms | p95 ms | p99 ms | expected | received | delivery % "
            "| failures | step verdict |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:--|",
        ]
        for r in multi["rows"]:
            out.append(
                f"| {_cell(r['users'])} | {_cell(r['connected'])} | {_cell(r['rss_mib'])} "
                f"| {_cell(r['locust_cpu_pct'])} | {_cell(r['floor_cpu_pct'])} "
                f"| {_cell(r['deliveries_per_s'])} | {_cell(r['us_per_delivery'])} "
                f"| {_cell(r['p50'])} | {_cell(r['p95'])} | {_cell(r['p99'])} "
                f"| {_cell(r['expected'])} | {_cell(r['received'])} "
                f"| {_cell(r['delivery_pct'], 2)} | {_cell(r['failures'])} | {r['verdict']} |"
            )
        d = multi["delivery"]
        out += [
            "",
            f"Merged books of the whole run: {d.get('messages', 0):,} messages, "
            f"{d.get('expected', 0):,} deliveries expected, {d.get('received', 0):,} received, "
            f"{d.get('missing', 0):,} missing, {d.get('duplicates', 0):,} duplicates; "
            f"verdict {multi['verdict']} (exit code {multi['returncode']}):",
            "",
            *(
                f"- {c['name']}: {c['measured']} ({c['threshold']}) — {c['verdict']}"
                for c in multi["checks"]
            ),
        ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hold-steps", type=_ints, default=[5000, 10000, 15000])
    parser.add_argument("--hold-rate", type=float, default=1.0, help="messages/s of the sender")
    parser.add_argument("--rate-users", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=5)
    parser.add_argument("--rates", type=_floats, default=[1.0, 2.0, 4.0, 8.0])
    parser.add_argument("--multi-steps", type=_ints, default=[], help="e.g. 30000,50000")
    parser.add_argument("--multi-rate", type=float, default=0.5, help="messages/s of the sender")
    parser.add_argument("--multi-processes", type=int, default=0, help="0: by --users-per-process")
    parser.add_argument("--floor-processes", type=int, default=0, help="0: by --users-per-process")
    parser.add_argument("--users-per-process", type=int, default=12500)
    parser.add_argument("--multi-timeout", type=float, default=720.0)
    parser.add_argument("--step-seconds", type=float, default=20.0)
    parser.add_argument("--spawn-rate", type=float, default=500.0)
    parser.add_argument("--workdir", type=Path, help="keep the Locust logs and summaries here")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("--markdown", type=Path, help="write the tables as Markdown")
    args = parser.parse_args(argv)
    started = time.time()
    layout, problems = plan(args)
    shown = sys.argv[1:] if argv is None else argv
    layout["command"] = shlex.join(["python", "-m", "benchmarks.loadgen_capacity", *shown])
    layout["date"] = time.strftime("%Y-%m-%d %H:%M", time.localtime(started))
    files = layout["open_files"]
    print(
        f"open files: soft {files['soft']}, hard {files['hard']}: at most "
        f"{files['max_users_per_process']} users per process; ephemeral ports per destination: "
        f"{layout['ephemeral_ports']}",
        file=sys.stderr,
        flush=True,
    )
    if problems:
        for problem in problems:
            print(f"cannot run here: {problem}", file=sys.stderr)
        return 2
    hold: list[dict] = []
    rate: list[dict] = []
    multi = None
    with tempfile.TemporaryDirectory(prefix="chatstack-loadgen-") as tmp:
        work = args.workdir or Path(tmp)
        if args.hold_steps or args.rates:
            with running_floor() as floor:
                hold = hold_sweep(floor, args, work) if args.hold_steps else []
                rate = rate_sweep(floor, args, work) if args.rates else []
        if args.multi_steps:
            with running_floor(layout["floor_processes"]) as floor:
                multi = multi_sweep(floor, args, work, layout)
    layout["minutes"] = (time.time() - started) / 60
    for row in hold:
        row["rate"] = args.hold_rate
    for row in multi["rows"] if multi else []:
        row["rate"] = args.multi_rate
    table = markdown(layout, hold, rate, multi)
    print(table)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table, encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {"layout": layout, "hold": hold, "rate": rate, "multi": multi}
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
