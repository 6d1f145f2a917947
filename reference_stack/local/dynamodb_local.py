"""AWS's DynamoDB Local (the Java emulator) as the local stage's DynamoDB and DynamoDB Streams.

It ships inside the npm package ``amplify-dynamodb-simulator`` (``emulator/DynamoDBLocal.jar``
and ``DynamoDBLocal_lib/``), installed by ``make setup`` into ``.tools/dynamodb-local`` from the
lockfile in ``reference_stack/dynamodb-local/``; it runs on Debian's ``openjdk-17-jre-headless``.
One process serves any number of stages, each with its own tables (``-sharedDb``: every
credential and region sees the same tables).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from reference_stack.local.config import REPO_ROOT
from reference_stack.local.errors import DependencyMissing, StartFailed

__all__ = ["DEFAULT_EMULATOR_DIR", "JVM_OPTIONS", "DynamoDBLocal"]

DEFAULT_EMULATOR_DIR = (
    REPO_ROOT / ".tools/dynamodb-local/node_modules/amplify-dynamodb-simulator/emulator"
)

# The JVM outlives a parent killed outright unless something watches: this shell starts it, then
# waits for its own standard input — a pipe from the stage — to close, which happens however the
# stage ends, and kills it.
_WATCHDOG = 'java "$@" & child=$!; read -r _; kill "$child" 2>/dev/null; wait "$child"'


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    """True once the emulator answers HTTP (any status: it wants signed JSON requests)."""
    try:
        with urllib.request.urlopen(url, timeout=1.0):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


# Measured here on 2 cores (steady state, JVM CPU per request): the client compiler alone and the
# serial collector roughly halve it — PutItem 0.7 → 0.5 ms, GetItem 0.9 → 0.3, a 10-item Query
# 1.1 → 0.5, an empty GetRecords 0.7 → 0.35, a 1,000-item Query 15 → 9.5 ms — because the
# optimizing compiler's and G1's own threads compete with the stage for the same two cores,
# and the JVM reaches that state in seconds rather than minutes.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


class DynamoDBLocal:
    """One DynamoDB Local process in memory on a free loopback port."""

    def __init__(
        self,
        host: str,
        emulator_dir: Path = DEFAULT_EMULATOR_DIR,
        data_dir: Path | None = None,
    ) -> None:
        self._host = host
        self._dir = emulator_dir
        self._data_dir = data_dir  # None: in memory (lost with the process)
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: Any = None
        self.endpoint_url = ""
        self.port: int | None = None

    @property
    def durable(self) -> bool:
        """Whether its tables outlive its process (on disk, in ``data_dir``)."""
        return self._data_dir is not None

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def pid(self) -> int | None:
        """The process group (the watchdog shell and the JVM) of the running emulator."""
        return None if self._process is None else self._process.pid

    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def kill(self) -> None:
        """SIGKILL the JVM and its watchdog shell, as a crash would (for fault plans)."""
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)

    def check(self) -> str:
        """The ``java`` to run it with.

        Raises:
            DependencyMissing: Java or the emulator is missing, with what to do about it.
        """
        java = shutil.which("java")
        if java is None:
            raise DependencyMissing(
                "DynamoDB Local needs Java, and `java` is not on PATH: run `make setup` "
                "(it installs Debian's openjdk-17-jre-headless) or install a Java 17+ runtime; "
                "or start the stage with `--dynamodb moto`"
            )
        if not (self._dir / "DynamoDBLocal.jar").is_file():
            raise DependencyMissing(
                f"DynamoDB Local is not installed (no DynamoDBLocal.jar in {self._dir}): run "
                "`make setup`, or set CHATSTACK_LOCAL_DYNAMODB_LOCAL_DIR to the folder holding "
                "DynamoDBLocal.jar and DynamoDBLocal_lib/; or start the stage with "
                "`--dynamodb moto`"
            )
        return java

    def start(self, timeout: float = 60.0) -> str:
        """Start it and wait until it answers; returns its URL.

        Raises:
            DependencyMissing: see ``check``.
            StartFailed: it exited or did not answer within ``timeout`` seconds.
        """
        self.check()
        if self._process is not None:  # restarting after a crash: same port, same data
            self.stop()
        port = self.port = self.port or _free_port(self._host)
        storage = ["-dbPath", str(self._data_dir)] if self._data_dir else ["-inMemory"]
        arguments = [
            *JVM_OPTIONS,
            "-Djava.library.path=DynamoDBLocal_lib",
            "-jar",
            "DynamoDBLocal.jar",
            *storage,
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(port),
        ]
        # Its own messages go to a file nobody has to drain (a full pipe would stall the JVM).
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self._process = subprocess.Popen(
            ["sh", "-c", _WATCHDOG, "dynamodb-local", *arguments],
            cwd=self._dir,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._errors,
            start_new_session=True,  # Ctrl-C is the stage's to handle
        )
        url = f"http://{self._host}:{port}"
        deadline = time.monotonic() + timeout
        while not _answers(url):
            code = self._process.poll()
            if code is not None or time.monotonic() > deadline:
                self._errors.seek(0)
                error = self._errors.read().decode(errors="replace").strip()[-1000:]
                self.stop()
                raise StartFailed(
                    f"DynamoDB Local did not start on port {port} (exit code {code}): {error}"
                )
            time.sleep(0.1)
        self.endpoint_url = url
        return url

    def stop(self) -> None:
        """Stop it (closing the watchdog's pipe kills the JVM); waits for it to exit."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        self._errors.close()
