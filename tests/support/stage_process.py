"""Start and stop a real local stage (`chatstack up`) as a child process, for tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunningStage", "start_stage"]

CHATSTACK = Path(sys.executable).with_name("chatstack")


@dataclass
class RunningStage:
    process: subprocess.Popen[bytes]
    rest_url: str
    ws_url: str
    web_url: str
    aws_endpoint: str
    jwt_secret: str
    stdout: Path
    stderr: Path

    @property
    def management_url(self) -> str:
        """The ``@connections`` endpoint, on the WebSocket API's host, as on AWS."""
        return "http" + self.ws_url.removeprefix("ws")

    def logs(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode


def _aws_endpoint(stderr: Path) -> str:
    """The embedded AWS endpoint from the stage's "stage started" log line, once written."""
    for line in stderr.read_text().splitlines():
        if '"stage started"' in line and line.endswith("}"):
            return json.loads(line)["aws_endpoint"]
    return ""


def start_stage(workdir: Path, *extra_args: str, timeout: float = 60.0) -> RunningStage:
    """Run ``chatstack up`` on free loopback ports; return once it wrote its stage file, logged
    its start and printed its URLs."""
    workdir.mkdir(parents=True, exist_ok=True)
    stage_file = workdir / "stage.json"
    stdout, stderr = workdir / "stdout.log", workdir / "stderr.log"
    jwt_secret = os.urandom(32).hex()
    command = [
        str(CHATSTACK),
        "up",
        "--rest-port",
        "0",
        "--ws-port",
        "0",
        "--web-port",
        "0",
        "--stage-file",
        str(stage_file),
        "--bcrypt-rounds",
        "10",
        "--jwt-secret",
        jwt_secret,
        *extra_args,
    ]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    # Ready means all three signs are out: the stage file, the "stage started" log line (with the
    # AWS endpoint) and the printed URLs — the stage writes them in that order, moments apart.
    while not (
        stage_file.exists()
        and (aws_endpoint := _aws_endpoint(stderr))
        and "Web app:" in stdout.read_text(errors="replace")
    ):
        if process.poll() is not None:
            raise RuntimeError(f"chatstack up exited {process.returncode}: {stderr.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"chatstack up was not ready within {timeout} s")
        time.sleep(0.05)
    urls = json.loads(stage_file.read_text())
    return RunningStage(
        process=process,
        rest_url=urls["rest_url"],
        ws_url=urls["ws_url"],
        web_url=urls["web_url"],
        aws_endpoint=aws_endpoint,
        jwt_secret=jwt_secret,
        stdout=stdout,
        stderr=stderr,
    )
