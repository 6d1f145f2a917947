"""Soak: a local stage under steady, moderate load for a bounded time, watched for leaks —
memory and open files of each of its processes, and broadcast latency, minute by minute.
Flat lines mean no leak.

    python -m benchmarks.soak                                   # 10 minutes, 40 users, rooms
    python -m benchmarks.soak --minutes 3 --users 20 --dynamodb moto
    python -m benchmarks.soak --out docs/benchmarks/soak        # also OUT.md and OUT.csv

The load is the load tests' rooms scenario (``loadtests/``) at ``--send-rate`` messages/s
per user; the stage's own processes (the stage, its worker processes, DynamoDB Local, moto)
are sampled every ``--interval`` seconds from /proc.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.locust_runs import run_locust
from benchmarks.proc_tree import process_tree
from benchmarks.stage import REPO_ROOT
from conformance.target import LocalStage

PAGE = os.sysconf("SC_PAGE_SIZE")


def _name(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = b" ".join(command).decode(errors="replace")
    if "DynamoDBLocal.jar" in text:
        return "dynamodb-local"
    if "chatstack up" in text or text.endswith("up") or " up " in text:
        return "stage"
    if "spawn_main" in text:
        return "workers+moto"
    if text.startswith(("sh ", "/bin/sh")):
        return "shell"
    return "other"


def _rss_and_fds(pid: int) -> tuple[int, int] | None:
    try:
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    return rss, fds


@dataclass
class Watch:
    root: int
    interval: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        started = time.time()
        while not self._stop.wait(self.interval):
            totals: dict[str, list[int]] = {}
            for pid in process_tree(self.root):
                sample = _rss_and_fds(pid)
                if sample is None:
                    continue
                entry = totals.setdefault(_name(pid), [0, 0, 0])
                entry[0] += sample[0]
                entry[1] += sample[1]
                entry[2] += 1
            row: dict[str, Any] = {"t": round(time.time() - started)}
            for name, (rss, fds, count) in sorted(totals.items()):
                row[f"{name} MiB"] = round(rss / 2**20, 1)
                row[f"{name} fds"] = fds
                row[f"{name} procs"] = count
            self.rows.append(row)

    def stop(self) -> None:
        self._stop.set()


def _latency_by_minute(history_csv: Path) -> dict[int, tuple[float | None, float | None]]:
    """Locust's stats history (one row a second, percentiles over its recent window): per
    minute, the broadcast p50 and p95 of the last row of that minute."""
    if not history_csv.exists():
        return {}
    with history_csv.open() as source:
        rows = [r for r in csv.DictReader(source) if r["Type"] == "broadcast"]
    if not rows:
        return {}
    start = int(rows[0]["Timestamp"])
    out: dict[int, tuple[float | None, float | None]] = {}
    for row in rows:
        minute = (int(row["Timestamp"]) - start) // 60

        def value(key: str, row: dict[str, str] = row) -> float | None:
            try:
                return float(row[key])
            except (KeyError, ValueError):
                return None

        out[minute] = (value("50%"), value("95%"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--rooms", type=int, default=8)
    parser.add_argument("--send-rate", type=float, default=0.5)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--dynamodb", choices=("local", "moto"), default="local")
    parser.add_argument("--out", type=Path, help="write OUT.csv (samples) and OUT.md")
    args = parser.parse_args(argv)
    seconds = int(args.minutes * 60)
    os.environ.pop("CHATSTACK_LOCAL_DYNAMODB_ENDPOINT", None)
    with tempfile.TemporaryDirectory(prefix="chatstack-soak-") as folder:
        work = Path(folder)
        stage = LocalStage("--dynamodb", args.dynamodb, workdir=work / "stage")
        watch = Watch(stage.process.pid, args.interval)
        thread = threading.Thread(target=watch.run, daemon=True)
        thread.start()
        try:
            run, _ = run_locust(
                "loadtests/locustfile.py",
                [
                    "--tags",
                    "rooms",
                    "-u",
                    str(args.users),
                    "-r",
                    "10",
                    "-t",
                    f"{seconds}s",
                    "--host",
                    stage.rest_url,
                    "--ws-url",
                    stage.ws_url,
                    "--rooms",
                    str(args.rooms),
                    "--send-rate",
                    str(args.send_rate),
                    "--csv",
                    str(work / "soak"),
                    "--csv-full-history",
                ],
                work,
                "soak",
                timeout=seconds + 180,
            )
            latency = _latency_by_minute(work / "soak_stats_history.csv")
        finally:
            watch.stop()
            thread.join()
            stage.stop()
    delivery = run.summary.get("delivery", {})
    delivered = (
        f"delivery {delivery.get('received')}/{delivery.get('expected')} "
        f"({100 * delivery.get('ratio', 0):.2f} %), duplicates {delivery.get('duplicates')}"
    )
    print(delivered)
    rows = watch.rows
    keys = sorted({k for r in rows for k in r if k != "t"})
    per_minute = []
    for row in rows:
        minute = int(row["t"] // 60)
        if per_minute and per_minute[-1]["minute"] == minute:
            per_minute[-1] = {**row, "minute": minute}
        else:
            per_minute.append({**row, "minute": minute})
    header = ["minute", *[k for k in keys if k.endswith(("MiB", "fds"))], "p50 ms", "p95 ms"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for row in per_minute:
        p50, p95 = latency.get(row["minute"], (None, None))
        cells = [str(row["minute"]), *[str(row.get(k, "")) for k in header[1:-2]]]
        lines.append("| " + " | ".join([*cells, str(p50), str(p95)]) + " |")
    table = "\n".join(lines)
    print(table)
    if args.out is not None:
        with args.out.with_suffix(".csv").open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=["t", *keys])
            writer.writeheader()
            writer.writerows(rows)
        given = argv if argv is not None else sys.argv[1:]
        command = " ".join(["python -m benchmarks.soak", *given])
        args.out.with_suffix(".md").write_text(
            f"# Soak\n\n`{command}`: {args.users} users in {args.rooms} rooms at "
            f"{args.send_rate} messages/s each, {args.minutes:g} min on {args.dynamodb}.\n\n"
            f"{delivered}\n\n{table}\n"
        )
        print(f"samples written to {args.out.with_suffix('.csv')} and .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
