"""How many connections one process may hold here: its open-file limit (``ulimit -n``).

Every connected user holds one socket, so a process can never hold more users than it may open
files, less what Locust itself keeps open. A run that cannot fit says so before any user starts.
Pure code (``resource`` only): no Locust, no gevent.
"""

from __future__ import annotations

import math
import resource
from dataclasses import dataclass

__all__ = ["RESERVED_FILES", "OpenFiles", "fit_users", "open_files", "raise_to_hard_limit"]

RESERVED_FILES = 200  # Locust's own: logs, the master's socket, REST sessions, the web UI


@dataclass(frozen=True)
class OpenFiles:
    """A process's open-file limits (``RLIM_INFINITY`` shown as -1)."""

    soft: int
    hard: int

    @property
    def max_users(self) -> int:
        """Connected users one process can hold under the hard limit."""
        limit = self.hard if self.hard >= 0 else 1 << 30
        return max(0, limit - RESERVED_FILES)

    def as_dict(self) -> dict[str, int]:
        return {"soft": self.soft, "hard": self.hard, "max_users_per_process": self.max_users}


def open_files() -> OpenFiles:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    return OpenFiles(-1 if soft == infinity else soft, -1 if hard == infinity else hard)


def fit_users(users: int, processes: int = 1) -> str | None:
    """Make room for ``users`` spread evenly over ``processes`` processes like this one: raise
    the soft limit as far as needed (at most to the hard limit). None when they fit; else what
    is wrong and what to do, to say before the run starts."""
    per_process = math.ceil(users / max(1, processes))
    needed = per_process + RESERVED_FILES
    limits = open_files()
    if limits.soft < 0 or needed <= limits.soft:
        return None
    if limits.hard < 0 or needed <= limits.hard:
        target = resource.RLIM_INFINITY if limits.hard < 0 else limits.hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(target, needed), target))
        return None
    enough = math.ceil(users / max(1, limits.max_users))
    return (
        f"{users:,} users over {processes} process(es) is {per_process:,} connections per process: "
        f"they need about {needed:,} open files, above this machine's limit of {limits.hard:,} "
        f"(ulimit -n, hard). One process holds at most {limits.max_users:,} users: "
        f"run {enough} or more processes (--processes {enough})."
    )


def raise_to_hard_limit() -> OpenFiles:
    """Raise the soft open-file limit to the hard one (a worker does not know its share yet)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return open_files()
