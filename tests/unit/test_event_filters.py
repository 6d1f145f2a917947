"""Lambda event filter patterns for stream records (reference_stack/local/event_filters.py)."""

from __future__ import annotations

import pytest

from reference_stack.definition import load
from reference_stack.local.event_filters import accepts, check_pattern


def record(name: str, new: dict | None = None, old: dict | None = None) -> dict:
    data: dict = {"SequenceNumber": "1"}
    if new is not None:
        data["NewImage"] = new
    if old is not None:
        data["OldImage"] = old
    return {"eventName": name, "dynamodb": data}


MESSAGE = {"kind": {"S": "message"}, "roomId": {"S": "general"}}
CHAT_MESSAGE = {"kind": {"S": "message"}, "chatId": {"S": "g-1"}}
MEMBER = {"kind": {"S": "member"}, "chatId": {"S": "g-1"}, "userId": {"S": "u"}}
STREAMS = {s.function: s.filters for s in load().streams}


def test_the_broadcaster_gets_inserted_messages_only():
    """INSERTs of kind message pass; dedupe claims, MODIFY and REMOVE records do not."""
    patterns = STREAMS["broadcaster"]
    assert accepts(patterns, record("INSERT", MESSAGE))
    assert accepts(patterns, record("INSERT", CHAT_MESSAGE))
    assert not accepts(patterns, record("INSERT", {"kind": {"S": "dedupe"}}))
    assert not accepts(patterns, record("MODIFY", MESSAGE))
    assert not accepts(patterns, record("REMOVE", old=MESSAGE))


def test_the_chat_lists_get_chat_messages_only():
    """exists: a chatId must be there; a room's message does not pass."""
    patterns = STREAMS["chat_inbox"]
    assert accepts(patterns, record("INSERT", CHAT_MESSAGE))
    assert not accepts(patterns, record("INSERT", MESSAGE))


def test_chat_events_get_members_inserted_or_removed():
    """Either pattern suffices: a member's INSERT (new image) or REMOVE (old image)."""
    patterns = STREAMS["chat_events"]
    assert accepts(patterns, record("INSERT", MEMBER))
    assert accepts(patterns, record("REMOVE", old=MEMBER))
    assert not accepts(patterns, record("MODIFY", MEMBER, MEMBER))
    assert not accepts(patterns, record("INSERT", {"kind": {"S": "chat"}}))
    assert not accepts(patterns, record("REMOVE", new=MEMBER))


def test_exists_false_and_prefix_and_no_patterns():
    """exists false matches a missing key; prefix a string start; no patterns pass all."""
    assert accepts([{"a": [{"exists": False}]}], {"b": 1})
    assert not accepts([{"a": [{"exists": False}]}], {"a": 1})
    assert accepts([{"a": [{"prefix": "ro"}]}], {"a": "room"})
    assert not accepts([{"a": [{"prefix": "ro"}]}], {"a": 5})
    assert accepts([], {"anything": 1})


@pytest.mark.parametrize(
    "pattern",
    [
        {"a": "x"},
        {"a": []},
        {"a": [{"numeric": [">", 1]}]},
        {"a": [{"exists": True, "prefix": "x"}]},
    ],
    ids=repr,
)
def test_what_is_not_implemented_is_refused_rather_than_ignored(pattern):
    """A leaf that is not a list, or an operator the stage does not know, raises ValueError."""
    with pytest.raises(ValueError):
        check_pattern(pattern)
