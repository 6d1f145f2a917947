"""Hands a fan-out shard to the fan-out function: an asynchronous Lambda invocation."""

from __future__ import annotations

import json
from typing import Any, Protocol

__all__ = ["DispatchFailed", "Dispatcher", "LambdaDispatcher"]


class DispatchFailed(Exception):
    """The shard was not accepted for delivery."""


class Dispatcher(Protocol):
    def dispatch(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for the fan-out function; raises DispatchFailed if not accepted."""


class LambdaDispatcher:
    """``Invoke`` with ``InvocationType=Event`` (202 Accepted: queued, retried by Lambda)."""

    def __init__(self, lambda_client: Any, function_name: str) -> None:
        self._client = lambda_client
        self.function_name = function_name

    def dispatch(self, event: dict[str, Any]) -> None:
        try:
            answer = self._client.invoke(
                FunctionName=self.function_name,
                InvocationType="Event",
                Payload=json.dumps(event, separators=(",", ":")).encode("utf-8"),
            )
        except Exception as exc:  # botocore's errors, whatever the cause: not accepted
            raise DispatchFailed(f"invoking {self.function_name}: {exc}") from exc
        if answer.get("StatusCode") != 202:
            raise DispatchFailed(
                f"invoking {self.function_name}: status {answer.get('StatusCode')}"
            )
