"""Where a run points: stage files of both shapes, URLs, or a local stage; users files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests.accounts import Account, read_users_file, write_users_file
from loadtests.stage import read_stage_file, resolve_target, ws_urls


def test_a_local_stage_file_names_both_urls(tmp_path: Path) -> None:
    path = tmp_path / "stage.json"
    path.write_text(json.dumps({"rest_url": "http://127.0.0.1:1/dev/", "ws_url": "ws://x/dev"}))
    target = read_stage_file(path)
    assert (target.rest_url, target.ws_url) == ("http://127.0.0.1:1/dev", "ws://x/dev")


def test_terraform_output_json_is_read_by_value(tmp_path: Path) -> None:
    path = tmp_path / "stage.json"
    outputs = {
        "rest_url": {"sensitive": False, "type": "string", "value": "https://a.example/dev"},
        "ws_url": {"sensitive": False, "type": "string", "value": "wss://b.example/dev"},
    }
    path.write_text(json.dumps(outputs))
    target = read_stage_file(path)
    assert (target.rest_url, target.ws_url) == ("https://a.example/dev", "wss://b.example/dev")


def test_no_target_named_means_a_local_stage_and_half_a_target_is_refused() -> None:
    assert resolve_target("", "", "", no_auth=False) is None
    with pytest.raises(ValueError, match="--ws-url"):
        resolve_target("http://h/dev", "", "", no_auth=False)
    with pytest.raises(ValueError, match="--host"):
        resolve_target("", "ws://h/dev", "", no_auth=False)
    assert resolve_target("", "ws://h/dev", "", no_auth=True).ws_url == "ws://h/dev"


def test_users_files_round_trip_and_name_a_missing_field(tmp_path: Path) -> None:
    path = tmp_path / "users.jsonl"
    accounts = [Account("a@example.test", "password-1", "a", "tok", "u1"), Account("b@x.test")]
    write_users_file(path, accounts)
    assert read_users_file(path) == accounts
    path.write_text('{"email": "c@example.test"}\n')
    with pytest.raises(ValueError, match="no password"):
        read_users_file(path)


def test_a_stage_file_listing_several_websocket_urls_gives_them_all(tmp_path: Path) -> None:
    """The floor server's processes: ``ws_urls`` become one comma-separated ``ws_url``."""
    path = tmp_path / "floor.json"
    urls = ["ws://127.0.0.1:1/floor", "ws://127.0.0.1:2/floor/"]
    path.write_text(json.dumps({"rest_url": "", "ws_url": urls[0], "ws_urls": urls}))
    target = read_stage_file(path)
    assert target.ws_url == "ws://127.0.0.1:1/floor,ws://127.0.0.1:2/floor"
    assert ws_urls(target.ws_url) == ["ws://127.0.0.1:1/floor", "ws://127.0.0.1:2/floor"]
    assert ws_urls("wss://b.example/dev") == ["wss://b.example/dev"]
