"""Chat users of a chatstack stage, through the broadcast path.

    locust -f loadtests/locustfile.py                                  # web UI, fan-out
    locust -f loadtests/locustfile.py --headless -u 100 -r 20 -t 60s   # a local stage for the run
    locust -f loadtests/locustfile.py --headless --tags rooms -u 200 -t 60s --stage-file s.json

Scenarios (``--tags``, default ``fanout``; or name the user classes):

- ``fanout``: everyone in one room; ``--senders`` of them talk at ``--send-rate`` messages/s.
- ``rooms``: users spread over ``--rooms`` rooms, each talking in its own; a broadcast from a
  room the user is not in fails (isolation).
- ``churn``: connect, join, say one thing, hang up after a random 0..``--churn-hold`` s, again.
- ``chats`` (contract v2): many 1:1 and small group chats talking at once — users pair up in the
  order they start (``--direct-share`` direct chats, created by both sides at once, which must
  give one chat; the rest groups of ``--group-size``); each chat has its books (every
  participant's connection owes each message), and a message from a chat the user is not in
  fails (privacy).
- ``media``: users spread over ``--rooms`` rooms; ``--attachment-share`` of their messages
  carry a file they first upload (``POST /upload-url``, then a presigned POST of
  ``--upload-bytes`` to the storage), the rest are text.
- ramp: ``locust -f loadtests/ramp.py`` steps fan-out users up and reports the knee.

The run ends with a verdict table; the exit code is 1 when a threshold fails. See README.md.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import gevent
import requests
from locust import events, tag, task

if __package__ in (None, ""):  # Locust imports this file by path, as a top-level module
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests import harness
from loadtests.chat_slots import ChatSlots, Slot, create_chat, identity_of
from loadtests.chat_user import ChatUser
from loadtests.media_upload import png_of_size, upload

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


class ChatsUser(ChatUser):
    """In one chat — direct or a small group — with users of its own process; talks there."""

    scenario = "chats"
    slots: ChatSlots | None = None  # this process's chats to be, filled as users start

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.user_id = ""
        self.slot: Slot | None = None
        self.chat: str | None = None  # chat:{chatId} once created

    def interval(self) -> float:
        return 1.0 / self.options.send_rate

    def on_start(self) -> None:
        super().on_start()
        if not self.token:
            return
        self.user_id, _name = identity_of(self.token)
        opts = self.options
        if ChatsUser.slots is None or ChatsUser.slots.run_id != self.harness.run_id:
            ChatsUser.slots = ChatSlots(opts.direct_share, opts.group_size, self.harness.run_id)
        slot = self.slot = ChatsUser.slots.take(self)
        if slot.full:
            name = f"chats-{self.harness.run_id}-{self.harness.node}-{slot.index}"
            create_chat(slot, self._create, name, self.harness.report_chat)

    def _create(self, member: ChatsUser, body: dict[str, Any]) -> str | None:
        return self.harness.create_chat(member, member.token or "", body)

    def enter_chat(self) -> None:
        """The chat exists (``slot.chat_id``): this user's connection is owed its messages."""
        if self.slot is not None and self.slot.key is not None:
            self.chat = self.slot.key
            if self.client is not None and self.client.connected:
                self.client.enter_chat(self.chat)

    def ensure_connected(self) -> bool:
        if self.client is not None and self.client.connected:
            return True
        if not super().ensure_connected():
            return False
        if self.chat is not None and self.client is not None:
            self.client.enter_chat(self.chat)  # a new connection receives the chat at once
        return True

    @tag("chats")
    @task
    def talk(self) -> None:
        slot = self.slot
        if slot is None or not self.ensure_connected():
            return
        if self.chat is None:
            slot.done.wait(timeout=min(self.interval(), self.options.chat_setup_timeout))
            return
        self.say(self.chat)


class MediaUser(ChatUser):
    """Talks in one of many rooms; part of its messages carry an image it uploads first."""

    scenario = "media"

    def on_start(self) -> None:
        self.uploads = requests.Session()
        self.file = png_of_size(self.options.upload_bytes)
        super().on_start()

    def choose_rooms(self) -> list[str]:
        return [self.harness.spread_room("media", self.options.rooms)]

    def interval(self) -> float:
        return 1.0 / self.options.send_rate

    @tag("media")
    @task
    def talk(self) -> None:
        if not self.ensure_connected() or not self.harness.may_send:
            return
        if random.random() >= self.options.attachment_share:
            self.say(self.rooms[0])
            return
        rest_url = self.environment.host or ""
        fire = self.environment.events.request.fire
        attached = upload(self.uploads, rest_url, self.token or "", self.file, fire)
        if attached is not None:
            self.say(self.rooms[0], [attached])
