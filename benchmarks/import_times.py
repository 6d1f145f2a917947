"""Cold import time of each Lambda handler module, each measured in a fresh interpreter.

    python -m benchmarks.import_times [--repeat 5] [--json OUT]

The handler modules come from ``reference_stack/stack.json``; ``boto3`` alone is the reference,
as every handler imports it. A cold start on Lambda pays at least this, before the first event.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.stage import REPO_ROOT

__all__ = ["handler_modules", "import_seconds", "main"]

STACK_JSON = REPO_ROOT / "reference_stack" / "stack.json"
PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def handler_modules(stack_json: Path = STACK_JSON) -> dict[str, str]:
    """Function name → handler module (``lambdas.handlers.signup.handler`` → its module)."""
    functions = json.loads(stack_json.read_text(encoding="utf-8"))["functions"]
    return {name: spec["handler"].rpartition(".")[0] for name, spec in functions.items()}


def import_seconds(module: str) -> float:
    """Seconds to import ``module`` in a new interpreter started in the repository root."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh interpreters per module")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    targets = {"(reference)": "boto3", **handler_modules()}
    figures = []
    for name, module in targets.items():
        runs = [import_seconds(module) * 1000 for _ in range(args.repeat)]
        figures.append(
            {
                "function": name,
                "module": module,
                "median_ms": round(statistics.median(runs), 1),
                "min_ms": round(min(runs), 1),
            }
        )
    print(f"Cold import, {args.repeat} fresh interpreters each ({sys.version.split()[0]})\n")
    print("| function | module | median ms | min ms |")
    print("|---|---|---:|---:|")
    for row in figures:
        print("| {function} | `{module}` | {median_ms} | {min_ms} |".format(**row))
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
