"""The stack definition (``stack.json``): tables, functions and routes, shared by every stage."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["STACK_FILE", "Bucket", "Function", "Stack", "Stream", "Table", "load"]

STACK_FILE = Path(__file__).with_name("stack.json")


@dataclass(frozen=True)
class Table:
    logical_name: str
    env: str
    hash_key: str
    range_key: str | None
    attributes: dict[str, str]
    stream_view_type: str | None
    ttl_attribute: str | None
    # Global secondary indexes: name → {"hash_key", "range_key", "projection"}.
    indexes: dict[str, dict[str, str]] = field(default_factory=dict)

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Arguments of DynamoDB ``CreateTable`` for this table under ``table_name``."""
        key_schema = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            key_schema.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        kwargs: dict[str, Any] = {
            "TableName": table_name,
            "KeySchema": key_schema,
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": kind}
                for name, kind in self.attributes.items()
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if self.indexes:
            kwargs["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": name,
                    "KeySchema": [
                        {"AttributeName": index["hash_key"], "KeyType": "HASH"},
                        {"AttributeName": index["range_key"], "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": index["projection"]},
                }
                for name, index in self.indexes.items()
            ]
        if self.stream_view_type:
            kwargs["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": self.stream_view_type,
            }
        return kwargs


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket of the stack: its functions may act on objects under ``upload_prefix``;
    browsers may reach it from the web origin with ``cors_methods``; ``lifecycle`` rules
    (``prefix``, ``tags``, ``expiration_days``, ``abort_incomplete_multipart_upload_days``)."""

    logical_name: str
    env: str
    upload_prefix: str
    cors_methods: list[str]
    lifecycle: list[dict[str, Any]]

    def bucket_name(self, prefix: str) -> str:
        return f"{prefix}-{self.logical_name}"

    def lifecycle_configuration(self) -> dict[str, Any]:
        """S3's ``LifecycleConfiguration`` of these rules, as PutBucketLifecycleConfiguration
        takes it."""
        rules = []
        for rule in self.lifecycle:
            tags = [{"Key": k, "Value": v} for k, v in rule.get("tags", {}).items()]
            prefix = rule.get("prefix", "")
            if tags:
                conditions: dict[str, Any] = {"Tags": tags}
                if prefix:
                    conditions["Prefix"] = prefix
                if len(tags) == 1 and not prefix:
                    found: dict[str, Any] = {"Tag": tags[0]}
                else:
                    found = {"And": conditions}
            else:
                found = {"Prefix": prefix}
            entry: dict[str, Any] = {"ID": rule["id"], "Status": "Enabled", "Filter": found}
            if "expiration_days" in rule:
                entry["Expiration"] = {"Days": rule["expiration_days"]}
            if "abort_incomplete_multipart_upload_days" in rule:
                entry["AbortIncompleteMultipartUpload"] = {
                    "DaysAfterInitiation": rule["abort_incomplete_multipart_upload_days"]
                }
            rules.append(entry)
        return {"Rules": rules}

    def cors_configuration(self, origins: list[str]) -> dict[str, Any]:
        """S3's ``CORSConfiguration``: the web origin(s) alone may call ``cors_methods``."""
        return {
            "CORSRules": [
                {
                    "AllowedOrigins": origins,
                    "AllowedMethods": self.cors_methods,
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 600,
                }
            ]
        }


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    tables: dict[str, list[str]]
    env: list[str]
    memory_mb: int
    timeout_s: int
    # S3 actions on each bucket's upload prefix (``stack.json`` ``buckets``), as IAM names them.
    buckets: dict[str, list[str]] = field(default_factory=dict)
    # Invoked asynchronously (the fan-out function): Lambda's retries of a failed invocation
    # and how long an event may wait, as ``aws_lambda_function_event_invoke_config`` sets them.
    async_invoke: dict[str, int] | None = None

    def load_handler(self) -> Callable[[dict[str, Any], Any], Any]:
        """Import the handler as Lambda does: ``package.module.function``."""
        module_name, _, attribute = self.handler.rpartition(".")
        return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class Stream:
    """An event source mapping: a table's stream feeding a function, batch by batch.

    ``filters`` are Lambda event filter patterns: a record is passed on when one matches.
    ``parallelization_factor`` (1–10) is how many batches of a shard run at once, spread by
    partition key: one key's records (a room's messages) stay in order.
    """

    name: str
    table: str
    function: str
    batch_size: int
    maximum_retry_attempts: int
    bisect_batch_on_function_error: bool
    function_response_types: list[str]
    filters: list[dict[str, Any]]
    parallelization_factor: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.parallelization_factor <= 10:
            raise ValueError(f"stream {self.name}: parallelization_factor must be 1 to 10")


@dataclass(frozen=True)
class Stack:
    tables: dict[str, Table]
    functions: dict[str, Function]
    rest_routes: list[dict[str, str]]
    websocket_routes: dict[str, str]
    streams: list[Stream]
    buckets: dict[str, Bucket] = field(default_factory=dict)

    def table_name(self, prefix: str, logical_name: str) -> str:
        return f"{prefix}-{logical_name}"


def load(path: Path = STACK_FILE) -> Stack:
    """Read the stack definition."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Stack(
        tables={name: Table(logical_name=name, **spec) for name, spec in raw["tables"].items()},
        functions={name: Function(name=name, **spec) for name, spec in raw["functions"].items()},
        rest_routes=raw["rest_routes"],
        websocket_routes=raw["websocket"]["routes"],
        streams=[Stream(**spec) for spec in raw["streams"]],
        buckets={
            name: Bucket(logical_name=name, **spec) for name, spec in raw.get("buckets", {}).items()
        },
    )
