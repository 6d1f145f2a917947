"""The invoker runs handlers in a worker pool, with Lambda's context, errors and timeouts."""

from __future__ import annotations

import asyncio

import pytest

from reference_stack.definition import Stack
from reference_stack.local.invoker import FunctionCrashed, InvocationFailed, Invoker
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


async def test_a_sandbox_that_dies_is_replaced_and_the_next_invocation_runs():
    """A worker process killed mid-invocation fails that invocation (FunctionCrashed, so its
    caller retries it) and a new process serves the next one: the function is not lost."""
    invoker = Invoker(_stack(dies=("dies", 30)), workers=1, prefix="t", process_functions={"dies"})
    try:
        first = await invoker.invoke("dies", {})
        with pytest.raises(FunctionCrashed):
            await invoker.invoke("dies", {"die": True})
        again = await invoker.invoke("dies", {})
        assert again["pid"] != first["pid"]
    finally:
        invoker.shutdown()


async def test_an_invocation_past_its_timeout_ends_its_sandbox():
    """As Lambda does, a process function's invocation past its timeout ends its process; the
    next invocation gets a fresh one."""
    invoker = Invoker(  # 5 s: a fresh process may take seconds to start on a busy machine
        _stack(hangs=("hangs", 5.0)), workers=1, prefix="t", process_functions={"hangs"}
    )
    try:
        first = await invoker.invoke("hangs", {})
        with pytest.raises(FunctionCrashed, match="timed out"):
            await invoker.invoke("hangs", {"wait": True})
        assert first["pid"] not in invoker.worker_pids("hangs")
        assert (await invoker.invoke("hangs", {}))["pid"] != first["pid"]
    finally:
        invoker.shutdown()


async def test_one_function_at_its_concurrency_never_holds_up_another():
    """Each function has workers of its own: invocations of one, all slots taken, leave
    another function's invocation free to run (a login storm never delays a route)."""
    invoker = Invoker(
        _stack(slow=("slow", 30), fast=("fast", 5)), workers=2, prefix="t", concurrency={"slow": 2}
    )
    fake_handlers.release.clear()
    blocked = [asyncio.create_task(invoker.invoke("slow", {})) for _ in range(3)]
    try:
        await asyncio.to_thread(fake_handlers.started.wait, 5)
        fast = await asyncio.wait_for(invoker.invoke("fast", {}), timeout=10)
        assert fast["body"] == "t-fast"
        assert invoker.in_flight("slow") == 3  # two running, one waiting for a slot
    finally:
        fake_handlers.release.set()
        await asyncio.gather(*blocked)
        invoker.shutdown()


async def test_a_sandbox_killed_while_idle_never_takes_an_invocation():
    """A worker process killed between invocations is replaced before the next one, which
    runs (it does not fail on a dead process)."""
    import os
    import signal

    invoker = Invoker(_stack(dies=("dies", 30)), workers=1, prefix="t", process_functions={"dies"})
    try:
        first = await invoker.invoke("dies", {})
        os.kill(first["pid"], signal.SIGKILL)
        for _ in range(100):  # until the kill has landed
            if first["pid"] not in invoker.worker_pids("dies"):
                break
            await asyncio.sleep(0.05)
        assert (await invoker.invoke("dies", {}))["pid"] != first["pid"]
    finally:
        invoker.shutdown()


async def test_a_new_sandbox_runs_with_the_environment_of_its_creation(monkeypatch):
    """Sandboxes fork from a server started earlier, yet each runs with the environment the
    stage had when the sandbox was made, as a Lambda sandbox has its function's."""
    invoker = Invoker(
        _stack(environment=("environment", 30)),
        workers=1,
        prefix="t",
        process_functions={"environment"},
    )
    monkeypatch.delenv("CHATSTACK_TEST_SETTING", raising=False)
    invoker.warm()  # the fork server starts without the variable
    monkeypatch.setenv("CHATSTACK_TEST_SETTING", "set after the server started")
    try:
        result = await invoker.invoke("environment", {"name": "CHATSTACK_TEST_SETTING"})
        assert result["value"] == "set after the server started"
    finally:
        invoker.shutdown()


async def test_sandboxes_start_on_demand_and_the_warm_one_is_reused():
    """One invocation after another runs in one sandbox: no process starts for concurrency
    that never came (Lambda's cold starts), and the most recent one runs the next."""
    invoker = Invoker(
        _stack(environment=("environment", 30)),
        workers=1,
        prefix="t",
        process_functions={"environment"},
        processes={"environment": 4},
    )
    try:
        pids = {(await invoker.invoke("environment", {"name": "HOME"}))["pid"] for _ in range(5)}
        assert len(pids) == 1
        assert invoker.worker_pids("environment") == list(pids)
    finally:
        invoker.shutdown()
