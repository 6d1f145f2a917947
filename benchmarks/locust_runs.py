"""Run ``loadtests/`` Locust files headless in a subprocess, and watch processes' CPU and memory.

Shared by ``benchmarks.fanout`` and ``benchmarks.loadgen_capacity``; Locust itself is never
imported here (it monkey-patches the process with gevent).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.stage import REPO_ROOT

__all__ = ["LocustRun", "ProcessSampler", "run_locust"]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass
class LocustRun:
    returncode: int
    summary: dict[str, Any]
    log: Path
    pid: int
    samples: list[tuple[float, float, int]]  # (wall time, CPU seconds, RSS bytes) of locust

    def steps(self) -> list[dict[str, Any]]:
        return list(self.summary.get("steps", []))


def _cpu_and_rss(pid: int) -> tuple[float, int] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
    except (OSError, IndexError):
        return None
    cpu = (int(stat[11]) + int(stat[12])) / CLOCK_TICKS  # utime + stime
    return cpu, int(statm[1]) * PAGE_BYTES


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process under it (Locust's ``--processes`` workers, floor siblings)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            tasks = Path(f"/proc/{current}/task").iterdir()
            for task in tasks:
                queue += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree_cpu_and_rss(pid: int) -> tuple[float, int] | None:
    """CPU seconds and RSS of ``pid`` and its descendants, summed."""
    samples = [s for p in _descendants(pid) if (s := _cpu_and_rss(p)) is not None]
    if not samples:
        return None
    return sum(cpu for cpu, _ in samples), sum(rss for _, rss in samples)


@dataclass
class ProcessSampler:
    """Samples CPU time and RSS of some processes (each with its descendants) every
    ``interval`` s in a thread. CPU of a descendant that exits drops out of the sums."""

    pids: dict[str, int]
    interval: float = 0.5
    samples: dict[str, list[tuple[float, float, int]]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> ProcessSampler:
        self.samples = {name: [] for name in self.pids}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            for name, pid in self.pids.items():
                sample = _tree_cpu_and_rss(pid)
                if sample is not None:
                    self.samples[name].append((now, *sample))
            self._stop.wait(self.interval)

    def cpu_percent(self, name: str, start: float, end: float) -> float | None:
        """Average CPU use (100 = one core) of ``name`` between two wall times."""
        inside = [s for s in self.samples.get(name, []) if start <= s[0] <= end]
        if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
            return None
        return 100 * (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])

    def rss_at(self, name: str, when: float) -> int | None:
        """RSS in bytes of ``name`` at the sample nearest to ``when``."""
        samples = self.samples.get(name, [])
        if not samples:
            return None
        return min(samples, key=lambda s: abs(s[0] - when))[2]


def run_locust(
    locustfile: str,
    args: Sequence[str],
    workdir: Path,
    label: str,
    *,
    timeout: float,
    watch: dict[str, int] | None = None,
) -> tuple[LocustRun, ProcessSampler]:
    """``locust -f locustfile --headless --only-summary ARGS --summary-json …``; returns its
    summary, and CPU/RSS samples of locust and of the ``watch`` processes."""
    workdir.mkdir(parents=True, exist_ok=True)
    summary_path = workdir / f"{label}.json"
    log = workdir / f"{label}.log"
    command = [sys.executable, "-m", "locust", "-f", locustfile, "--headless", "--only-summary"]
    command += ["--summary-json", str(summary_path), *args]
    print(f"[{label}] {' '.join(command[2:])}", file=sys.stderr, flush=True)
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
        sampler = ProcessSampler({"locust": process.pid, **(watch or {})}).start()
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # SIGTERM: locust still prints and writes its verdict
            print(f"[{label}] timed out after {timeout:.0f} s", file=sys.stderr, flush=True)
            process.terminate()
            try:
                returncode = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                returncode = process.wait()
        finally:
            sampler.stop()
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    run = LocustRun(returncode, summary, log, process.pid, sampler.samples.get("locust", []))
    return run, sampler
