"""Start a local stage in a subprocess for a benchmark, or use one that is already running."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["REPO_ROOT", "read_stage_file", "running_stage"]

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def read_stage_file(path: Path) -> dict[str, str]:
    """The stage's URLs: ``{"rest_url", "ws_url", "web_url"}``."""
    return json.loads(path.read_text(encoding="utf-8"))


@contextlib.contextmanager
def running_stage(
    stage_file: Path | None = None, log_file: Path | None = None, bcrypt_rounds: int = 10
) -> Iterator[dict[str, str]]:
    """Yield the URLs of ``stage_file``'s stage, or of a fresh one stopped (SIGTERM) on exit."""
    if stage_file is not None:
        yield read_stage_file(stage_file)
        return
    with tempfile.TemporaryDirectory(prefix="chatstack-bench-") as tmp:
        path = Path(tmp) / "stage.json"
        command = [sys.executable, "-m", "reference_stack.cli", "up"]
        command += ["--rest-port", "0", "--ws-port", "0", "--web-port", "0"]
        command += ["--stage-file", str(path), "--bcrypt-rounds", str(bcrypt_rounds)]
        with contextlib.ExitStack() as stack:
            log = (
                stack.enter_context(log_file.open("wb"))
                if log_file is not None
                else subprocess.DEVNULL
            )
            process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=log)
            try:
                deadline = time.monotonic() + START_TIMEOUT_S
                while not path.exists():
                    if process.poll() is not None:
                        raise RuntimeError(f"the stage exited with {process.returncode}")
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"no stage file after {START_TIMEOUT_S:.0f} s")
                    time.sleep(0.05)
                yield read_stage_file(path)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
