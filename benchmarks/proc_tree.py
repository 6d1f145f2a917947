"""A process and all its descendants, read from ``/proc`` (Linux), for the benchmarks that
sample a stage's CPU or memory process by process."""

from __future__ import annotations

from pathlib import Path

__all__ = ["process_tree"]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (processes gone meanwhile are skipped)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue += _children(current)
    return found
