"""Which stage the suite checks: given URLs, a stage file, the environment — or a fresh local one.

Stage files come in two shapes, both accepted:

- the local stage's ``--stage-file``: ``{"rest_url": "...", "ws_url": "...", "web_url": "..."}``
- ``terraform output -json``: ``{"rest_url": {"value": "...", "sensitive": false, ...}, ...}``
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.errors import StageUnreachable, TargetError

__all__ = ["LocalStage", "Target", "TargetError", "probe", "read_signing_key", "read_stage_file"]


@dataclass(frozen=True)
class Target:
    rest_url: str
    ws_url: str
    source: str
    jwt_secret: str | None = None
    jwt_secret_param: str | None = None  # an SSM parameter holding it (a deployed stage)


def _value(entry: Any) -> Any:
    return entry.get("value") if isinstance(entry, dict) else entry


def read_stage_file(path: Path) -> tuple[str, str]:
    """The REST and WebSocket URLs in a stage file of either shape."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TargetError(f"cannot read stage file {path}: {exc}") from None
    rest_url, ws_url = _value(data.get("rest_url")), _value(data.get("ws_url"))
    if not isinstance(rest_url, str) or not isinstance(ws_url, str):
        raise TargetError(f"stage file {path} has no rest_url and ws_url strings")
    return rest_url.rstrip("/"), ws_url.rstrip("/")


def _chatstack_command() -> str:
    beside = Path(sys.executable).with_name("chatstack")
    found = str(beside) if beside.exists() else shutil.which("chatstack")
    if not found:
        raise TargetError("no target given and no `chatstack` command to start a local stage")
    return found


class LocalStage:
    """A local stage in a child process (``chatstack up`` on free loopback ports).

    Its stage file and logs (``stdout.log``, ``stderr.log``) are kept in ``workdir`` — a
    temporary folder, removed on ``stop()``, when none is given. ``extra_args`` go to
    ``chatstack up``.
    """

    def __init__(
        self,
        *extra_args: str,
        workdir: Path | None = None,
        bcrypt_rounds: int = 10,
        startup_timeout: float = 60.0,
    ) -> None:
        self.jwt_secret = secrets.token_hex(32)
        self._temporary = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="chatstack-stage-")) if workdir is None else workdir
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.stage_file = self.workdir / "stage.json"
        self.stdout, self.stderr = self.workdir / "stdout.log", self.workdir / "stderr.log"
        command = [
            _chatstack_command(),
            "up",
            "--rest-port",
            "0",
            "--ws-port",
            "0",
            "--web-port",
            "0",
            "--stage-file",
            str(self.stage_file),
            "--bcrypt-rounds",
            str(bcrypt_rounds),
            "--jwt-secret",
            self.jwt_secret,
            *extra_args,
        ]
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=err, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + startup_timeout
        while not self.stage_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.stderr.read_text(errors="replace")[-2000:]
                self.stop()
                raise TargetError(f"the local stage did not start:\n{log}")
            time.sleep(0.05)
        self.rest_url, self.ws_url = read_stage_file(self.stage_file)
        self.web_url = json.loads(self.stage_file.read_text())["web_url"]

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM (then SIGKILL after ``timeout``); returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self._temporary:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return self.process.returncode

    def __enter__(self) -> LocalStage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def resolve(
    rest_url: str | None,
    ws_url: str | None,
    stage_file: str | None,
    jwt_secret: str | None,
    jwt_secret_param: str | None = None,
) -> Target | None:
    """The target from options, else from ``CHATSTACK_*`` variables; None means start one."""
    env = os.environ
    rest_url = rest_url or env.get("CHATSTACK_REST_URL")
    ws_url = ws_url or env.get("CHATSTACK_WS_URL")
    stage_file = stage_file or env.get("CHATSTACK_STAGE_FILE")
    jwt_secret = jwt_secret or env.get("CHATSTACK_CONFORMANCE_JWT_SECRET")
    param = jwt_secret_param or env.get("CHATSTACK_CONFORMANCE_JWT_SECRET_PARAM")
    if rest_url or ws_url:
        if not (rest_url and ws_url):
            raise TargetError("give both --rest-url and --ws-url")
        return Target(rest_url.rstrip("/"), ws_url.rstrip("/"), "urls", jwt_secret, param)
    if stage_file:
        rest_url, ws_url = read_stage_file(Path(stage_file))
        return Target(rest_url, ws_url, f"stage file {stage_file}", jwt_secret, param)
    return None


_EXECUTE_API = re.compile(r"^[a-z]+://[^./]+\.execute-api\.([a-z0-9-]+)\.")


def read_signing_key(parameter: str, rest_url: str) -> str:
    """The stage's signing key, read from the SSM SecureString ``parameter`` with the caller's
    own AWS credentials — in the region of the stage's ``execute-api`` URL, else the caller's.

    Raises:
        TargetError: the parameter cannot be read (credentials, permission, name, region).
    """
    import boto3  # a library, as aiohttp is: nothing of the product
    import botocore.exceptions

    found = _EXECUTE_API.match(rest_url)
    region = found.group(1) if found else boto3.session.Session().region_name or "us-east-1"
    try:
        answer = boto3.client("ssm", region_name=region).get_parameter(
            Name=parameter, WithDecryption=True
        )
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise TargetError(
            f"cannot read the signing key from SSM parameter {parameter} ({region}): {exc}"
        ) from None
    return answer["Parameter"]["Value"]


def probe(target: Target, timeout: float) -> None:
    """Raise ``StageUnreachable`` unless a TCP connection opens to both of the stage's URLs."""
    import socket

    for url in (target.rest_url, target.ws_url):
        parts = urlsplit(url)
        secure = parts.scheme in ("https", "wss")
        port = parts.port or (443 if secure else 80)
        try:
            socket.create_connection((parts.hostname or "", port), timeout=timeout).close()
        except OSError as exc:
            raise StageUnreachable(f"nothing answers at {url}: {exc}") from None
