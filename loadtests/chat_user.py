"""The abstract chat user: signs in once, keeps one connection joined to its rooms, talks at a
pace. Concrete users (``locustfile.py``) only say which rooms and what to do."""

from __future__ import annotations

import random
import time
from typing import Any

import gevent
from locust import User

from loadtests.chat_client import ChatClient
from loadtests.harness import Harness, current

__all__ = ["ChatUser"]

RETRY_BACKOFF_S = (1.0, 30.0)  # after a failed (re)connect: 1, 2, 4 … 30 s, ±50 % jitter


class ChatUser(User):
    """A signed-in user with at most one open connection, joined to :meth:`choose_rooms`.

    Subclasses set ``scenario`` (the name its requests are reported under), may override
    :meth:`choose_rooms` and :meth:`interval` (seconds between two tasks), and write tasks with
    :meth:`ensure_connected`, :meth:`say` and :meth:`hang_up`.
    """

    abstract = True
    scenario = "chat"

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.harness: Harness = current()
        self.token: str | None = None
        self.client: ChatClient | None = None
        self.rooms: list[str] = []
        self._due: float | None = None
        self._failures = 0
        self._failed = False
        self._ready = False

    @property
    def options(self) -> Any:
        return self.environment.parsed_options

    def choose_rooms(self) -> list[str]:
        """The rooms this user joins after connecting (besides ``general``)."""
        return []

    def interval(self) -> float:
        """Seconds from one task to the next."""
        return 5.0

    def on_start(self) -> None:
        self.rooms = self.choose_rooms()
        self.ensure_connected()
        gevent.sleep(random.uniform(0, self.interval()))  # spread the first sends

    def on_stop(self) -> None:
        self.hang_up(wait=0.2)

    def wait_time(self) -> float:
        """Open-loop pacing: tasks start every :meth:`interval` s whatever they took."""
        interval = self.interval()
        if self._failed:  # back off, so that a struggling stage is not stormed by retries
            self._failed = False
            self._due = None
            first, cap = RETRY_BACKOFF_S
            backoff = min(cap, first * 2 ** min(self._failures - 1, 10))
            return max(interval, backoff * random.uniform(0.5, 1.5))
        now = time.monotonic()
        self._due = now + interval if self._due is None else self._due + interval
        if self._due < now - interval:  # fell behind: never burst to catch up
            self._due = now
        return max(0.0, self._due - now)

    def ensure_connected(self) -> bool:
        """Signed in, connected and joined to every room; False (retried later) if not."""
        if self.client is not None and self.client.connected:
            return True
        self.client = None
        if self.token is None:
            self.token = self.harness.sign_in(self)
        if not self.token:
            return self._failure()
        client = self.harness.new_client(self.token, self.scenario)
        gate = self.harness.gate
        if gate is not None:
            gate.acquire()
        try:
            joined = client.connect() and all(client.join(room) for room in self.rooms)
        finally:
            if gate is not None:
                gate.release()
        if not joined:
            client.close(wait=0.2)
            return self._failure()
        self.client = client
        self._failures = 0
        if not self._ready:
            self._ready = True
            self.harness.user_ready()
        return True

    def _failure(self) -> bool:
        self._failed = True
        self._failures += 1
        return False

    def say(self, room: str, attachments: list[dict[str, Any]] | None = None) -> None:
        """Send one message to ``room`` (not while the run drains its deliveries)."""
        if self.client is None or not self.harness.may_send:
            return
        self.client.send(room, attachments)
        self.client.expire_acks()

    def hang_up(self, wait: float = 1.0) -> None:
        """Close the connection (a normal close; the next task reconnects)."""
        if self.client is not None:
            self.client.close(wait=wait)
            self.client = None
