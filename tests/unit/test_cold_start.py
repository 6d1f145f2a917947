"""What a cold start imports: modules a function never uses stay unloaded."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    ["lambdas.domain.connections", "lambdas.domain.fanout", "lambdas.domain.sharded_fanout"],
)
def test_connections_and_fan_out_never_load_jwt(module):
    """The connections store, the broadcaster's and the fan-out function's code import neither
    PyJWT nor ``cryptography`` (a fifth of their cold start, profiled)."""
    script = (
        f"import sys, {module}; "
        "print(sorted(m for m in ('jwt', 'cryptography') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
