"""Where one message's time goes: CPU per delivery in each process of the message path.

A local stage (started here, on free ports) and the measuring client (this process, asyncio)
run ``broadcast_latency``'s workload — ``--members`` connections in one room, ``--senders`` of
them sending ``--messages`` at ``--rate`` messages/s in all — while every process of the stage
is sampled: the stage's own (WebSocket and REST APIs, ``@connections``, the stream poller,
functions run as threads), each function's sandboxes (``cs:broadcaster``, ``cs:fanout_shard``,
named by the stage), DynamoDB Local (``java``) and moto (``cs:moto``). CPU is counted from the
first measured send until the last delivery arrived, and divided by the deliveries::

    python -m benchmarks.message_path --members 1000 --rate 5 --messages 100
    python -m benchmarks.message_path --members 1000 --rate 5 --stage-args "--dynamodb moto"

CPU time, unlike latency, barely depends on what else the machine runs: it is the figure to
compare between versions when the machine is busy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shlex
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.broadcast_latency import run_benchmark
from benchmarks.proc_tree import process_tree
from conformance.target import LocalStage

__all__ = ["main", "measure"]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _name_and_cpu(pid: int) -> tuple[str, float] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class TreeCpu:
    """CPU seconds of each process under ``root``, by process name, between ``mark`` calls;
    processes are sampled every ``interval`` s so one that exits keeps what it used."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self._root = root
        self._interval = interval
        self._last: dict[int, tuple[str, float]] = {}
        self._base: dict[int, float] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for pid in process_tree(self._root):
            sample = _name_and_cpu(pid)
            if sample is not None:
                with self._lock:
                    self._last[pid] = sample

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def start(self) -> TreeCpu:
        self._thread.start()
        return self

    def mark(self) -> None:
        """From now on: CPU used before this call is not counted."""
        self._sample()
        with self._lock:
            self._base = {pid: cpu for pid, (_, cpu) in self._last.items()}

    def used(self) -> dict[str, float]:
        """CPU seconds since ``mark`` by process name (``chatstack`` is the stage itself)."""
        self._sample()
        totals: dict[str, float] = defaultdict(float)
        with self._lock:
            for pid, (name, cpu) in self._last.items():
                totals[name] += cpu - self._base.get(pid, 0.0)
        return dict(totals)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run(stage: LocalStage, tree: TreeCpu, args: argparse.Namespace) -> dict[str, Any]:
    urls = {"rest_url": stage.rest_url, "ws_url": stage.ws_url}
    marks: dict[str, float] = {}

    def on_measuring() -> None:
        tree.mark()
        marks["client"] = _own_cpu()

    figures = await run_benchmark(
        urls,
        clients=args.members,
        messages=args.messages,
        senders=args.senders,
        rate=args.rate,
        users=args.users,
        warmup=args.warmup,
        timeout=args.timeout,
        connect_concurrency=8,
        on_measuring=on_measuring,
        on_received=lambda: marks.setdefault("done", _own_cpu()),
    )
    used = tree.used()
    used["client"] = marks.get("done", _own_cpu()) - marks["client"]
    figures["cpu_s"] = {name: round(seconds, 3) for name, seconds in used.items() if seconds}
    return figures


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Start a stage, run the workload, stop the stage; the figures with CPU by process."""
    stage = LocalStage(*shlex.split(args.stage_args), bcrypt_rounds=10)
    tree = TreeCpu(stage.process.pid).start()
    try:
        figures = asyncio.run(_run(stage, tree, args))
    finally:
        tree.stop()
        stage.stop()
    figures["stage_args"] = args.stage_args
    deliveries = figures["deliveries_received"] or 1
    figures["cpu_us_per_delivery"] = {
        name: round(seconds / deliveries * 1e6, 1) for name, seconds in figures["cpu_s"].items()
    }
    return figures


def markdown(figures: dict[str, Any]) -> str:
    lat = figures["latency_ms"]
    lines = [
        f"{figures['clients']} members, {figures['messages']} messages at "
        f"{figures['rate_per_s']:g}/s, stage args `{figures['stage_args'] or '-'}`: "
        f"{figures['deliveries_received']:,}/{figures['deliveries_expected']:,} delivered, "
        f"p50/p95/p99 {lat['p50']}/{lat['p95']}/{lat['p99']} ms, "
        f"{figures['deliveries_per_s']} deliveries/s",
        "",
        "| process | CPU s | µs per delivery |",
        "|---|---:|---:|",
    ]
    per = figures["cpu_us_per_delivery"]
    for name, seconds in sorted(figures["cpu_s"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {seconds:.2f} | {per[name]:.1f} |")
    total = sum(figures["cpu_s"].values())
    lines.append(f"| **all** | {total:.2f} | {sum(per.values()):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000, help="connections in the room")
    parser.add_argument("--messages", type=int, default=100, help="measured messages")
    parser.add_argument("--senders", type=int, default=5)
    parser.add_argument("--rate", type=float, default=5.0, help="messages per second in all")
    parser.add_argument("--users", type=int, default=50, help="accounts the connections share")
    parser.add_argument("--warmup", type=int, default=4, help="unmeasured messages first")
    parser.add_argument("--timeout", type=float, default=60.0, help="s to await deliveries")
    parser.add_argument("--stage-args", default="", help="chatstack up arguments, quoted")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    figures = measure(args)
    print(markdown(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if figures["missing"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
