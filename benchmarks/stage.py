"""Start a local stage in a subprocess for a benchmark, or use one that is already running."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

from conformance.target import LocalStage

__all__ = ["REPO_ROOT", "read_stage_file", "running_stage"]

REPO_ROOT = Path(__file__).resolve().parents[1]


def read_stage_file(path: Path) -> dict[str, str]:
    """The stage's URLs: ``{"rest_url", "ws_url", "web_url"}``."""
    return json.loads(path.read_text(encoding="utf-8"))


@contextlib.contextmanager
def running_stage(
    stage_file: Path | None = None,
    log_file: Path | None = None,
    bcrypt_rounds: int = 10,
    stage_args: tuple[str, ...] = (),
) -> Iterator[dict[str, str]]:
    """Yield the URLs of ``stage_file``'s stage, or of a fresh one stopped (SIGTERM) on exit.

    With ``log_file``, the fresh stage's standard error (its JSON log) is copied there;
    ``stage_args`` go to its ``chatstack up``.
    """
    if stage_file is not None:
        yield read_stage_file(stage_file)
        return
    stage = LocalStage(*stage_args, bcrypt_rounds=bcrypt_rounds)
    try:
        yield {"rest_url": stage.rest_url, "ws_url": stage.ws_url, "web_url": stage.web_url}
    finally:
        if log_file is not None:
            shutil.copyfile(stage.stderr, log_file)
        stage.stop()
