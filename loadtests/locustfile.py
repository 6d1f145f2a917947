"""Chat users of a chatstack stage, through the broadcast path.

    locust -f loadtests/locustfile.py                                  # web UI, fan-out
    locust -f loadtests/locustfile.py --headless -u 100 -r 20 -t 60s   # a local stage for the run
    locust -f loadtests/locustfile.py --headless --tags rooms -u 200 -t 60s --stage-file s.json

Scenarios (``--tags``, default ``fanout``; or name the user classes):

- ``fanout``: everyone in one room; ``--senders`` of them talk at ``--send-rate`` messages/s.
- ``rooms``: users spread over ``--rooms`` rooms, each talking in its own; a broadcast from a
  room the user is not in fails (isolation).
- ``churn``: connect, join, say one thing, hang up after a random 0..``--churn-hold`` s, again.
- ramp: ``locust -f loadtests/ramp.py`` steps fan-out users up and reports the knee.

The run ends with a verdict table; the exit code is 1 when a threshold fails. See README.md.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import gevent
from locust import events, tag, task

if __package__ in (None, ""):  # Locust imports this file by path, as a top-level module
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests import harness
from loadtests.chat_user import ChatUser

harness.install(events)

LISTEN_CHECK_S = 60.0  # a listener wakes this often even when its connection stays up


class FanoutSender(ChatUser):
    """One of the few who talk in the big room."""

    scenario = "fanout"
    fixed_count = 2  # --senders

    @classmethod
    def configure(cls, options: Any) -> None:
        cls.fixed_count = options.senders
        cls.weight = 1 if options.senders > 0 else 0  # fixed_count 0 would mean "by weight"

    def choose_rooms(self) -> list[str]:
        return [self.harness.room("fanout")]

    def interval(self) -> float:
        return 1.0 / self.options.send_rate

    @tag("fanout")
    @task
    def talk(self) -> None:
        if self.ensure_connected():
            self.say(self.rooms[0])


class FanoutListener(ChatUser):
    """Everyone else in the big room: reads every message."""

    scenario = "fanout"

    def choose_rooms(self) -> list[str]:
        return [self.harness.room("fanout")]

    @tag("fanout")
    @task
    def listen(self) -> None:
        """Stay connected; sleep until the connection goes (no polling: 10,000s of listeners)."""
        if self.ensure_connected() and self.client is not None:
            self.client.wait_gone(LISTEN_CHECK_S)


class RoomsUser(ChatUser):
    """Lives in one of many rooms, talks there, and must hear nothing from the others."""

    scenario = "rooms"

    def choose_rooms(self) -> list[str]:
        return [self.harness.spread_room("rooms", self.options.rooms)]

    def interval(self) -> float:
        return 1.0 / self.options.send_rate

    @tag("rooms")
    @task
    def talk(self) -> None:
        if self.ensure_connected():
            self.say(self.rooms[0])


class ChurnUser(ChatUser):
    """Comes in, says one thing, leaves — over and over."""

    scenario = "churn"

    def choose_rooms(self) -> list[str]:
        return [self.harness.room("churn")]

    def interval(self) -> float:
        return random.uniform(0.1, 1.0)

    @tag("churn")
    @task
    def drop_by(self) -> None:
        if self.ensure_connected():
            self.say(self.rooms[0])
            gevent.sleep(random.uniform(0, self.options.churn_hold))
            self.hang_up()
