"""Which stage a run targets: URLs given, a stage file, or a local stage started for the run."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LocalStage", "Target", "read_stage_file", "resolve_target"]


@dataclass(frozen=True)
class Target:
    rest_url: str
    ws_url: str
    source: str


def _value(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if isinstance(value, dict):  # `terraform output -json`: {"rest_url": {"value": ...}}
        value = value.get("value", "")
    return str(value or "")


def read_stage_file(path: str | Path) -> Target:
    """The URLs of a local stage's file or of `terraform output -json` (both shapes)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    ws_url = _value(data, "ws_url")
    if not ws_url:
        raise ValueError(f"{path}: no ws_url in the stage file")
    return Target(_value(data, "rest_url").rstrip("/"), ws_url, f"stage file {path}")


def resolve_target(host: str, ws_url: str, stage_file: str, no_auth: bool) -> Target | None:
    """The target the options name, or None when they name none (start a local stage)."""
    if stage_file:
        return read_stage_file(stage_file)
    if ws_url:
        if not host and not no_auth:
            raise ValueError("--ws-url needs --host (the REST URL), or --no-auth")
        return Target(host.rstrip("/"), ws_url, "--host/--ws-url")
    if host:
        raise ValueError("--host (the REST URL) needs --ws-url (the WebSocket URL)")
    return None


class LocalStage:
    """``chatstack up`` on free loopback ports (bcrypt cost 10), for the length of a run."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self.target: Target | None = None

    def start(self) -> Target:
        from benchmarks.stage import running_stage

        urls = self._stack.enter_context(running_stage())
        self.target = Target(urls["rest_url"], urls["ws_url"], "a local stage started for this run")
        return self.target

    def stop(self) -> None:
        self._stack.close()
