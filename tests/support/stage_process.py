"""Start and stop a real local stage (`chatstack up`) as a child process, for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from conformance.target import LocalStage

__all__ = ["RunningStage", "start_stage"]


class RunningStage(LocalStage):
    """A local stage, with what tests look at behind its APIs."""

    def _started(self) -> dict:
        for line in self.stderr.read_text().splitlines():
            if '"stage started"' in line:
                return json.loads(line)
        raise AssertionError("the stage logged no start line")

    @property
    def aws_endpoint(self) -> str:
        """The embedded AWS (moto) the stage logged at start."""
        return self._started()["aws_endpoint"]

    @property
    def dynamodb_endpoint(self) -> str:
        """Its DynamoDB and DynamoDB Streams (DynamoDB Local, or moto with --dynamodb moto)."""
        return self._started()["dynamodb_endpoint"]

    def table(self, logical: str) -> str:
        """The name of one of its tables (``users``, ``messages``, ``connections``)."""
        return self._started()["tables"][logical]

    @property
    def delivery_url(self) -> str:
        """The ``@connections`` endpoint the stage gives its functions (a server of its own)."""
        return self._started()["delivery_url"]

    @property
    def management_url(self) -> str:
        """The ``@connections`` endpoint, on the WebSocket API's host, as on AWS."""
        return "http" + self.ws_url.removeprefix("ws")

    @property
    def s3_url(self) -> str:
        """The stage's S3 endpoint, as browsers and functions reach it (with S3's checks)."""
        return self._started()["s3_url"]

    def bucket(self, logical: str) -> str:
        """The name of one of its buckets (``media``)."""
        return self._started()["buckets"][logical]

    def client(self, service: str, endpoint_url: str | None = None) -> Any:
        """A boto3 client of ``service`` on the stage's embedded AWS (or ``endpoint_url``);
        for S3, moto's own S3 behind the stage's S3 endpoint."""
        default = {
            "dynamodb": self.dynamodb_endpoint,
            "dynamodbstreams": self.dynamodb_endpoint,
            "s3": self._started()["s3_endpoint"],
        }.get(service, self.aws_endpoint)
        return boto3.client(
            service,
            endpoint_url=endpoint_url or default,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def logs(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")


def start_stage(workdir: Path, *extra_args: str) -> RunningStage:
    """Run ``chatstack up`` on free loopback ports; return once its stage file is written."""
    return RunningStage(*extra_args, workdir=workdir)
