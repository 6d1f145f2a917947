"""The embedded AWS: moto's server on a free loopback port, with the stack's tables."""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3

from reference_stack.definition import Stack

__all__ = ["EmbeddedAws", "fake_credentials_env"]


def fake_credentials_env(endpoint_url: str) -> dict[str, str]:
    """Variables that point every boto3 client of this process at moto, never at AWS."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": endpoint_url,
    }


class EmbeddedAws:
    """moto's server, started in this process, and the tables of ``stack`` created in it."""

    def __init__(self, host: str) -> None:
        from moto.server import ThreadedMotoServer  # heavy import: only when a stage starts

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
        self.endpoint_url = ""

    def start(self) -> str:
        """Start the server; point this process's AWS clients at it; return its URL."""
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        os.environ.update(fake_credentials_env(self.endpoint_url))
        return self.endpoint_url

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url)

    def create_tables(self, stack: Stack, prefix: str) -> dict[str, str]:
        """Create every table of the stack; returns logical name → stream ARN (if any)."""
        dynamodb = self.client("dynamodb")
        streams: dict[str, str] = {}
        for logical, table in stack.tables.items():
            name = stack.table_name(prefix, logical)
            created = dynamodb.create_table(**table.create_table_kwargs(name))
            description = created["TableDescription"]
            if table.ttl_attribute:
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
            if description.get("LatestStreamArn"):
                streams[logical] = description["LatestStreamArn"]
        return streams

    def stop(self) -> None:
        self._server.stop()
