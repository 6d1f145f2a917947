"""The local stage at the seeds' scale, on each DynamoDB backend, against the raw floor.

Three measurements, each against fresh targets started here — the floor server
(``benchmarks/floor_server.py``), a local stage on DynamoDB Local and one on moto — with one
asyncio measuring client (``benchmarks.room_load``) that counts every expected delivery:

- ``fanout``: one room of ``--sizes`` members; for each ``--rates`` (messages/s in all, five
  senders) a measured step after an unmeasured warm-up: p50/p95/p99, delivery, deliveries/s,
  and the stage's CPU per delivery by process;
- ``rooms``: ``--rooms`` rooms of ``--room-size`` members, stepped up through ``--room-rates``
  messages/s spread over them; the knee is the first step whose broadcast p95 exceeds 200 ms or
  that misses a delivery (seed 001's threshold);
- ``connects``: ``--connections`` connections opened, then handshakes (``$connect``) churned
  while they stay open: connects/s and their latency, and the stage's memory by process.

    python -m benchmarks.stage_scale all      # writes docs/benchmarks/stage-scale.md
    python -m benchmarks.stage_scale fanout --sizes 1000 --rates 5 --targets floor,local
    python -m benchmarks.stage_scale rooms --room-rates 50,100,200 --targets local

Latency on a shared 2-core machine moves with whatever else runs: measure on a quiet one, and
compare targets only within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.floor_server import running_floor
from benchmarks.lanes import stack_args
from benchmarks.message_path import TreeCpu
from benchmarks.proc_tree import process_tree
from benchmarks.room_load import RoomLoad, percentile, sign_up
from benchmarks.stage import REPO_ROOT
from conformance.target import LocalStage

__all__ = ["main"]

TARGETS = {"floor": None, "local": ("--dynamodb", "local"), "moto": ("--dynamodb", "moto")}
KNEE_P95_MS = 200.0
PAGE = 4096


@contextmanager
def _target(name: str, lanes: int | None) -> Iterator[tuple[str, str | None, int | None]]:
    """(ws_url, rest_url or None for the floor, pid of the stage's process tree)."""
    if name == "floor":
        with running_floor() as floor:
            yield floor["ws_url"], None, None
        return
    stage = LocalStage(*TARGETS[name], *stack_args(lanes), bcrypt_rounds=10)
    try:
        yield stage.ws_url, stage.rest_url, stage.process.pid
    finally:
        stage.stop()


async def _tokens(rest_url: str | None, users: int) -> list[str]:
    return ["floor"] if rest_url is None else await sign_up(rest_url, users)


def _cycle(tokens: list[str], n: int) -> list[str]:
    return [tokens[i % len(tokens)] for i in range(n)]


def _rss_by_name(root: int) -> dict[str, int]:
    totals: dict[str, int] = {}
    for pid in process_tree(root):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
        totals[name] = totals.get(name, 0) + resident
    return totals


# -- fan-out ------------------------------------------------------------------------------------


async def _fanout(target: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    with _target(target, args.lanes) as (ws_url, rest_url, pid):
        tokens = await _tokens(rest_url, args.accounts)
        tree = TreeCpu(pid).start() if pid else None
        try:
            for size in args.sizes:
                load = RoomLoad(ws_url, [_cycle(tokens, size)], senders=5)
                opened = await load.open(concurrency=8)
                try:
                    await load.step(rate=2, seconds=3, drain=30)  # warm-up, not measured
                    for rate in args.rates:
                        if tree:
                            tree.mark()
                        step = await load.step(rate, args.seconds, drain=args.drain)
                        row = {"target": target, "members": size, **step.row()}
                        row["open_s"] = round(opened, 1)
                        if tree and step.received:
                            cpu = tree.used()
                            row["cpu_us_per_delivery"] = {
                                name: round(seconds / step.received * 1e6, 1)
                                for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1])
                                if seconds > 0.01
                            }
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                finally:
                    await load.close()
        finally:
            if tree:
                tree.stop()
    return rows


# -- rooms ---------------------------------------------------------------------------------------


async def _rooms(target: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    with _target(target, args.lanes) as (ws_url, rest_url, _pid):
        # Rooms belong to users (contract v2): a message reaches every connection of every
        # member, so each room gets users of its own — shared users would get each other's rooms.
        tokens = await _tokens(rest_url, args.rooms * args.room_size)
        size = args.room_size
        rooms = [_cycle(tokens[k * size : (k + 1) * size], size) for k in range(args.rooms)]
        load = RoomLoad(ws_url, rooms, senders=args.room_size)
        await load.open(concurrency=8)
        failures = 0
        try:
            await load.step(rate=min(args.room_rates), seconds=3, drain=30)  # warm-up
            for rate in args.room_rates:
                step = await load.step(rate, args.seconds, drain=args.drain)
                row = {"target": target, "rooms": args.rooms, "room_size": args.room_size}
                row.update(step.row())
                p95 = step.latency_ms["p95"]
                row["pass"] = step.missing == 0 and p95 is not None and p95 <= KNEE_P95_MS
                rows.append(row)
                print(json.dumps(row), flush=True)
                failures = 0 if row["pass"] else failures + 1
                if failures >= 2:  # past the knee twice: the rest would only queue
                    break
        finally:
            await load.close()
    return rows


# -- connects ------------------------------------------------------------------------------------


async def _connects(target: str, args: argparse.Namespace) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    with _target(target, args.lanes) as (ws_url, rest_url, pid):
        tokens = await _tokens(rest_url, args.accounts)
        load = RoomLoad(ws_url, [_cycle(tokens, args.connections)], senders=1)
        opened = await load.open(concurrency=16)
        row: dict[str, Any] = {
            "target": target,
            "open": args.connections,
            "opened_per_s": round(args.connections / opened, 1),
        }
        try:
            latencies: list[float] = []
            gate = asyncio.Semaphore(16)

            async def churn(i: int) -> None:
                async with gate:
                    started = time.perf_counter()
                    url = f"{ws_url}?token={tokens[i % len(tokens)]}"
                    ws = await connect(url, compression=None, proxy=None)
                    latencies.append((time.perf_counter() - started) * 1000)
                    await ws.close()

            started = time.perf_counter()
            await asyncio.gather(*(churn(i) for i in range(args.churn)))
            took = time.perf_counter() - started
            row.update(
                churned=args.churn,
                connects_per_s=round(args.churn / took, 1),
                connect_p50_ms=round(percentile(latencies, 50) or 0, 1),
                connect_p95_ms=round(percentile(latencies, 95) or 0, 1),
            )
            if pid:
                rss = _rss_by_name(pid)
                row["rss_mb"] = {k: round(v / 2**20) for k, v in sorted(rss.items())}
                row["rss_mb_total"] = round(sum(rss.values()) / 2**20)
        finally:
            await load.close()
    print(json.dumps(row), flush=True)
    return row


# -- report --------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}".removesuffix(".0")
    return f"{value:,}" if isinstance(value, int) else str(value)


def report(results: dict[str, Any]) -> str:
    commands = sorted(
        {(r.get("measured", "?"), r.get("command", "?")) for rows in results.values() for r in rows}
    )
    lines = [
        "# The local stage at scale: DynamoDB Local and moto against the raw floor",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        "targets, their embedded AWS and the measuring client share the machine's cores. "
        "Latency = receive time − send time in the same process, per delivery; every expected "
        "delivery is counted. Measured by:",
        "",
        *(f"- `{command}` ({when})" for when, command in commands),
    ]
    if results.get("fanout"):
        lines += [
            "",
            "## One room: fan-out",
            "",
            "| members | msgs/s | target | p50 ms | p95 ms | p99 ms | ack p95 ms | delivery % "
            "| deliveries/s | stage CPU µs per delivery |",
            "|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in sorted(results["fanout"], key=lambda r: (r["members"], r["rate"], r["target"])):
            cpu = r.get("cpu_us_per_delivery") or {}
            where = ", ".join(f"{k} {v:g}" for k, v in cpu.items())
            lines.append(
                f"| {r['members']:,} | {r['rate']:g} | {r['target']} | {_cell(r['p50_ms'])} "
                f"| {_cell(r['p95_ms'])} | {_cell(r['p99_ms'])} | {_cell(r['ack_p95_ms'])} "
                f"| {_cell(r['delivery_pct'])} | {_cell(r['deliveries_per_s'])} | {where or '-'} |"
            )
    if results.get("rooms"):
        lines += [
            "",
            "## Many rooms: the knee",
            "",
            "| target | rooms × members | msgs/s asked | msgs/s sent | p50 ms | p95 ms | p99 ms "
            "| ack p95 ms | delivery % | deliveries/s | within seed 001 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in results["rooms"]:
            lines.append(
                f"| {r['target']} | {r['rooms']} × {r['room_size']} | {r['rate']:g} "
                f"| {_cell(r['messages_per_s'])} | {_cell(r['p50_ms'])} | {_cell(r['p95_ms'])} "
                f"| {_cell(r['p99_ms'])} | {_cell(r['ack_p95_ms'])} | {_cell(r['delivery_pct'])} "
                f"| {_cell(r['deliveries_per_s'])} | {'yes' if r['pass'] else 'no'} |"
            )
        for target in sorted({r["target"] for r in results["rooms"]}):
            steps = [r for r in results["rooms"] if r["target"] == target]
            passed = [r["rate"] for r in steps if r["pass"]]
            failed = [r["rate"] for r in steps if not r["pass"]]
            knee = min(failed) if failed else None
            lines.append(
                f"\n{target}: highest step within the thresholds "
                f"{_cell(max(passed)) if passed else 'none'} msgs/s; knee "
                f"{_cell(knee) if knee is not None else 'not reached'}."
            )
    if results.get("connects"):
        lines += [
            "",
            "## Connects with many connections open",
            "",
            "| target | open | connects/s | connect p50 ms | p95 ms | memory MB (by process) |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for r in results["connects"]:
            rss = r.get("rss_mb") or {}
            memory = ", ".join(f"{k} {v}" for k, v in rss.items())
            total = f"{r['rss_mb_total']} ({memory})" if rss else "-"
            lines.append(
                f"| {r['target']} | {r['open']:,} | {_cell(r['connects_per_s'])} "
                f"| {_cell(r['connect_p50_ms'])} | {_cell(r['connect_p95_ms'])} | {total} |"
            )
    return "\n".join(lines) + "\n"


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("fanout", "rooms", "connects", "all"))
    parser.add_argument("--targets", default="floor,local,moto")
    parser.add_argument("--sizes", type=_ints, default=[100, 500, 1000, 2000])
    parser.add_argument("--rates", type=_floats, default=[0.5, 5.0])
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--room-size", type=int, default=10)
    parser.add_argument(
        "--room-rates", type=_floats, default=[25, 50, 100, 150, 200, 250, 300, 400, 500]
    )
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--churn", type=int, default=1000, help="handshakes while the rest stay")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds a step")
    parser.add_argument("--drain", type=float, default=30.0, help="longest wait after a step")
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--lanes", type=int, help="the broadcaster's lanes (default: stack.json)")
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks" / "stage-scale"
    )
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    what = ("fanout", "rooms", "connects") if args.what == "all" else (args.what,)
    results: dict[str, Any] = {}
    for part in what:
        rows: list[Any] = []
        for target in targets:
            if part == "rooms" and target == "floor":
                continue  # the floor has no knee worth a table here: it is the fan-out's floor
            runner = {"fanout": _fanout, "rooms": _rooms, "connects": _connects}[part]
            result = asyncio.run(runner(target, args))
            rows += result if isinstance(result, list) else [result]
        results[part] = rows
    command = "python -m benchmarks.stage_scale " + " ".join(argv or sys.argv[1:])
    merged = merge(_load(args.out.with_suffix(".json")), results, command.strip())
    text = report(merged)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(merged, indent=2) + "\n")
    print(text)
    return 0


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def merge(previous: dict[str, Any], results: dict[str, Any], command: str) -> dict[str, Any]:
    """The report's data with this run's rows replacing earlier rows of the same part and target.

    A full run takes longer than one quiet stretch of a shared machine; running it part by part
    (or target by target) keeps every table, each row stamped with the command that measured it.
    """
    stamp = {"command": command, "measured": time.strftime("%Y-%m-%d %H:%M")}
    merged = {k: list(v) for k, v in previous.items() if isinstance(v, list)}
    for part, rows in results.items():
        fresh = [{**row, **stamp} for row in rows]
        again = {row["target"] for row in fresh}
        kept = [row for row in merged.get(part, []) if row.get("target") not in again]
        merged[part] = kept + fresh
    return merged


if __name__ == "__main__":
    raise SystemExit(main())
