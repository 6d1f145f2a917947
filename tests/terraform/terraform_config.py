"""reference_stack/terraform as data: parsed with python-hcl2, and its plain locals evaluated.

No provider can be downloaded here, so ``terraform validate`` and ``plan`` are out of reach. Two
things remain: reading the configuration (python-hcl2 gives every expression as its source text,
``"${local.tables}"``), and evaluating ``stack.tf`` — the locals derived from stack.json, which
reference no resource — with the real ``terraform`` binary, which needs no provider for that.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

__all__ = [
    "ROOT",
    "STACK",
    "TF_DIR",
    "Evaluation",
    "blocks",
    "dynamic_blocks",
    "evaluate",
    "locals_",
    "named_blocks",
    "strings",
    "terraform",
]

ROOT = Path(__file__).resolve().parents[2]
TF_DIR = ROOT / "reference_stack" / "terraform"
STACK_FILE = ROOT / "reference_stack" / "stack.json"
STACK: dict[str, Any] = json.loads(STACK_FILE.read_text(encoding="utf-8"))

_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)


@functools.cache
def documents() -> dict[str, dict[str, Any]]:
    """Every ``.tf`` file of the module, by file name."""
    parsed = {}
    for path in sorted(TF_DIR.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            parsed[path.name] = hcl2.load(handle, serialization_options=_OPTIONS)
    return parsed


def _entries(kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, document in documents().items():
        for entry in document.get(kind, []):
            yield name, entry


def blocks(kind: str = "resource") -> dict[tuple[str, str], dict[str, Any]]:
    """``resource`` / ``data`` / ``ephemeral`` blocks: (type, name) → body."""
    found = {}
    for _, entry in _entries(kind):
        for type_, named in entry.items():
            if not type_.startswith("__"):
                for name, body in named.items():
                    if not name.startswith("__"):
                        found[(type_, name)] = body
    return found


def named_blocks(kind: str) -> dict[str, dict[str, Any]]:
    """``variable`` / ``output`` blocks: name → body."""
    found = {}
    for _, entry in _entries(kind):
        found.update({k: v for k, v in entry.items() if not k.startswith("__")})
    return found


def locals_(file: str | None = None) -> dict[str, Any]:
    """Every local (of one file, if named): name → its expression."""
    found: dict[str, Any] = {}
    for name, entry in _entries("locals"):
        if file in (None, name):
            found.update({k: v for k, v in entry.items() if not k.startswith("__")})
    return found


def dynamic_blocks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The ``dynamic "name"`` blocks of a body: each with ``for_each`` and ``content``."""
    return [d[name] for d in body.get("dynamic", []) if name in d]


def strings(value: Any) -> Iterator[str]:
    """Every string in a parsed value, however nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if not key.startswith("__"):
                yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def terraform(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the terraform binary, offline and without a CLI configuration."""
    binary = shutil.which("terraform")
    assert binary, "terraform is not on PATH (it is preinstalled on the development machine)"
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": "/dev/null",
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    result = subprocess.run(
        [binary, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, f"terraform {' '.join(args)}:\n{result.stderr}"
    return result


class Evaluation:
    """The locals of ``stack.tf`` (and the variables), evaluated by terraform in ``workdir``."""

    def __init__(self, outputs: dict[str, Any]) -> None:
        self._outputs = outputs

    def local(self, name: str) -> Any:
        return self._outputs[f"local_{name}"]

    def var(self, name: str) -> Any:
        return self._outputs[f"var_{name}"]


def evaluate(
    workdir: Path, stack: dict[str, Any] | None = None, variables: dict[str, str] | None = None
) -> Evaluation | str:
    """Evaluate ``stack.tf`` against ``stack`` (default: the real stack.json).

    Copies ``stack.tf`` and ``variables.tf`` — nothing that needs a provider — into
    ``workdir/terraform``, stack.json beside it as the module expects, adds an output per local
    and per variable, and applies. Returns the values, or terraform's error text if it refused.
    """
    module = workdir / "terraform"
    module.mkdir(parents=True)
    shutil.copy(TF_DIR / "stack.tf", module)
    shutil.copy(TF_DIR / "variables.tf", module)
    (workdir / "stack.json").write_text(json.dumps(stack or STACK), encoding="utf-8")
    names = [f"local.{n}" for n in locals_("stack.tf")]
    names += [f"var.{n}" for n in named_blocks("variable")]
    probe = "".join(f'output "{n.replace(".", "_")}" {{\n  value = {n}\n}}\n' for n in names)
    (module / "probe.tf").write_text(probe, encoding="utf-8")
    args = ["apply", "-auto-approve", "-input=false", "-no-color"]
    for key, value in (variables or {}).items():
        args += ["-var", f"{key}={value}"]
    applied = terraform(*args, cwd=module, check=False)
    if applied.returncode != 0:
        return applied.stderr
    raw = json.loads(terraform("output", "-json", cwd=module).stdout)
    return Evaluation({k: v["value"] for k, v in raw.items()})
