"""The stack definition (``stack.json``): tables, functions and routes, shared by every stage."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["STACK_FILE", "Function", "Stack", "Stream", "Table", "load"]

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
class Function:
    name: str
    handler: str
    tables: dict[str, list[str]]
    env: list[str]
    memory_mb: int
    timeout_s: int
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
    """

    name: str
    table: str
    function: str
    batch_size: int
    maximum_retry_attempts: int
    bisect_batch_on_function_error: bool
    function_response_types: list[str]
    filters: list[dict[str, Any]]


@dataclass(frozen=True)
class Stack:
    tables: dict[str, Table]
    functions: dict[str, Function]
    rest_routes: list[dict[str, str]]
    websocket_routes: dict[str, str]
    streams: list[Stream]

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
    )
