"""The broadcaster hands each invocation's time budget to the shared poster with every call."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

from lambdas import runtime
from lambdas.domain.fanout import Deliveries
from lambdas.handlers import broadcaster

EVENTS = Path(__file__).resolve().parents[1] / "events"


class _Store:
    def members(self, room_id):
        return ["a"]

    def remove_gone(self, connection_id, room_id):
        return True

    def connections_of(self, user_ids):  # a chat's audience (no chat here)
        return {}

    def forget(self, connection_id, user_id):
        return True


def _context(remaining_s: float) -> SimpleNamespace:
    return SimpleNamespace(
        get_remaining_time_in_millis=lambda: int(remaining_s * 1000),
        aws_request_id="r",
        function_name="broadcaster",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:broadcaster",
    )


def test_concurrent_invocations_keep_their_own_time_budgets(monkeypatch):
    """An invocation that starts while another delivers (threads sharing one cached poster)
    does not shorten — or lengthen — the other's retry budget."""
    event = json.loads((EVENTS / "stream_insert.json").read_text())
    budgets: list[tuple[str, float | None]] = []

    class Poster:
        nested = False

        def deliver(self, connection_ids, data, deadline=None):
            if not Poster.nested:  # the long invocation: a short one runs meanwhile
                Poster.nested = True
                broadcaster.handler(event, _context(3.0))
                budgets.append(("long", None if deadline is None else deadline - time.monotonic()))
            else:
                budgets.append(("short", None if deadline is None else deadline - time.monotonic()))
            return Deliveries(delivered=list(connection_ids))

    monkeypatch.setattr(runtime, "poster", Poster)
    monkeypatch.setattr(runtime, "connections", _Store)
    monkeypatch.setattr(runtime, "dispatcher", lambda: None)
    # A room's message: no chat is read.
    monkeypatch.setattr(runtime, "chats", lambda: SimpleNamespace(participants=lambda c: []))
    broadcaster.handler(event, _context(60.0))
    (short_name, short), (long_name, long) = budgets
    assert (short_name, long_name) == ("short", "long")
    assert short is not None and 0 < short <= 2.0  # 3 s left, retries stop 1 s before
    assert long is not None and 50 < long <= 59.0
