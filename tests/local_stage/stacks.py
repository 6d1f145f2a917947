"""Stacks of fake functions (``tests.local_stage.fake_handlers``) for the stage parts' tests."""

from __future__ import annotations

from reference_stack.definition import Function, Stack


def fake_function(
    name: str, target: str, timeout: float = 5, async_invoke: dict | None = None
) -> Function:
    return Function(
        name=name,
        handler=f"tests.local_stage.fake_handlers.{target}",
        tables={},
        env=[],
        memory_mb=128,
        timeout_s=timeout,  # type: ignore[arg-type]
        async_invoke=async_invoke,
    )


def fake_stack(*functions: Function) -> Stack:
    return Stack(
        tables={},
        functions={f.name: f for f in functions},
        rest_routes=[],
        websocket_routes={},
        streams=[],
    )
