"""Which stage a run targets: URLs given, a stage file, or a local stage started for the run."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.target import LocalStage as StageProcess
from conformance.target import Target, TargetError
from conformance.target import read_stage_file as read_urls

__all__ = ["LocalStage", "Target", "read_stage_file", "resolve_target", "ws_urls"]


def read_stage_file(path: str | Path) -> Target:
    """The URLs of a local stage's file or of `terraform output -json` (both shapes). A file
    that also lists ``ws_urls`` (the floor server's processes) gives them all, comma-separated,
    for the users to spread over."""
    try:
        rest_url, ws_url = read_urls(Path(path))
    except TargetError as exc:
        raise ValueError(str(exc)) from None
    if not ws_url:
        raise ValueError(f"{path}: no ws_url in the stage file")
    more = json.loads(Path(path).read_text(encoding="utf-8")).get("ws_urls")
    if isinstance(more, list) and more and all(isinstance(u, str) and u for u in more):
        ws_url = ",".join(u.rstrip("/") for u in more)
    return Target(rest_url, ws_url, f"stage file {path}")


def ws_urls(ws_url: str) -> list[str]:
    """The WebSocket URLs of ``--ws-url``: one, or several separated by commas."""
    return [url.strip() for url in ws_url.split(",") if url.strip()]


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
        self._process: StageProcess | None = None
        self.target: Target | None = None

    def start(self) -> Target:
        self._process = StageProcess()
        self.target = Target(
            self._process.rest_url, self._process.ws_url, "a local stage started for this run"
        )
        return self.target

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
