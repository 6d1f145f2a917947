"""The invoker runs handlers in a worker pool, with Lambda's context, errors and timeouts."""

from __future__ import annotations

import asyncio

import pytest

from reference_stack.definition import Stack
from reference_stack.local.invoker import InvocationFailed, Invoker
from tests.local_stage import fake_handlers
from tests.local_stage.stacks import fake_function, fake_stack


def _stack(**handlers: tuple[str, float]) -> Stack:
    return fake_stack(*(fake_function(n, t, timeout) for n, (t, timeout) in handlers.items()))


async def test_slow_handler_does_not_stall_others():
    """While one invocation blocks in its handler, another completes."""
    invoker = Invoker(_stack(slow=("slow", 30), fast=("fast", 5)), workers=4, prefix="t")
    fake_handlers.release.clear()
    slow = asyncio.create_task(invoker.invoke("slow", {}))
    await asyncio.to_thread(fake_handlers.started.wait, 5)
    assert await invoker.invoke("fast", {}) == {"statusCode": 200, "body": "t-fast"}
    assert not slow.done()
    fake_handlers.release.set()
    assert (await slow)["body"] == "slow"
    invoker.shutdown()


async def test_handler_exception_is_an_invocation_failure():
    """A handler that raises surfaces as InvocationFailed (and the gateway answers generically)."""
    invoker = Invoker(_stack(crash=("crash", 5)), workers=1, prefix="t")
    with pytest.raises(InvocationFailed) as failed:
        await invoker.invoke("crash", {})
    assert "secret" not in str(failed.value)
    invoker.shutdown()


async def test_timeout_is_an_invocation_failure():
    """A handler running past its timeout surfaces as InvocationFailed."""
    invoker = Invoker(_stack(sleepy=("sleepy", 0.2)), workers=1, prefix="t")
    with pytest.raises(InvocationFailed, match="timed out"):
        await invoker.invoke("sleepy", {})
    invoker.shutdown()
