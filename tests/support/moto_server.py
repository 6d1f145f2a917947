"""moto's server in a child process on a free loopback port: the AWS that Terraform applies to.

A process of its own, so the provider's many parallel requests never wait on the test's own
interpreter. AWS's managed policies are loaded (``MOTO_IAM_LOAD_MANAGED_POLICIES``): the
account module attaches ``AmazonAPIGatewayPushToCloudWatchLogs``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["MotoServer"]

_SERVE = """
import logging, sys, time
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the parent closes our stdin (or dies)
"""


class MotoServer:
    """``with MotoServer(log) as aws: aws.endpoint`` — stopped, whatever happens, on exit."""

    def __init__(self, log: Path) -> None:
        self._log = log
        self.endpoint = ""

    def __enter__(self) -> MotoServer:
        env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
        with self._log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SERVE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()  # "" if it died
        if not line.isdigit():
            self.__exit__()
            raise RuntimeError(f"moto's server did not start: {self._log.read_text()[-2000:]}")
        self.endpoint = f"http://127.0.0.1:{line}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
