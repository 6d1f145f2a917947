"""The conformance suite fails deliberately broken stages, naming the right checks — and passes
the reference stage under the same conditions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reference_stack.definition import STACK_FILE
from tests.support.stage_process import start_stage

REPO = Path(__file__).resolve().parents[2]
CHATSTACK = Path(sys.executable).with_name("chatstack")
BROKEN = "tests.conformance_variants.broken"

# variant: (function replaced, its broken handler, extra stage flags, must fail, may fail)
VARIANTS = {
    "broadcast leaks across rooms": (
        "broadcaster",
        "leaky_broadcaster",
        [],
        {"BCAST-002", "BCAST-003", "BCAST-008", "BCAST-009"},
        set(),
    ),
    "$connect accepts bad tokens": (
        "connect",
        "trusting_connect",
        [],
        {"CONN-002", "SEC-002", "SEC-003", "SEC-004", "SEC-005", "SEC-006"},
        set(),
    ),
    "broadcaster stops at the first 410": (
        # $disconnect lags behind the close, as it may on AWS: gone connections stay listed.
        "broadcaster",
        "give_up_broadcaster",
        ["--disconnect-delay", "2"],
        {"LIFE-002"},
        {"LIFE-001", "LIFE-003", "CONN-003"},
    ),
    "history newest first": (
        "get_messages",
        "newest_first_history",
        [],
        {"HIST-001", "HIST-002", "HIST-004", "HIST-006"},
        set(),
    ),
    "broadcaster silently loses part of a sender's run for some members": (
        "broadcaster",
        "lossy_broadcaster",
        [],
        {"BCAST-007", "BCAST-008", "BCAST-009"},
        set(),
    ),
    "broadcaster silently loses a room's later senders for some members": (
        "broadcaster",
        "later_senders_lossy_broadcaster",
        [],
        {"BCAST-007", "BCAST-008", "BCAST-009"},
        set(),
    ),
    "signup returns the password hash": (
        "signup",
        "hash_returning_signup",
        [],
        {"AUTH-001", "AUTH-011", "SEC-001"},
        set(),
    ),
}


def conform(stage, workdir: Path) -> tuple[int, dict[str, str], str]:
    """Run `chatstack conform` against ``stage``; returns (exit code, verdicts, output)."""
    results = workdir / "results.json"
    run = subprocess.run(
        [
            str(CHATSTACK),
            "conform",
            "--rest-url",
            stage.rest_url,
            "--ws-url",
            stage.ws_url,
            "--jwt-secret",
            stage.jwt_secret,
            "--results-json",
            str(results),
            "--junit-xml",
            str(workdir / "junit.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=workdir,
    )
    verdicts = {}
    if results.exists():
        checks = json.loads(results.read_text())["checks"]
        verdicts = {check_id: v["outcome"] for check_id, v in checks.items()}
    return run.returncode, verdicts, run.stdout[-4000:] + run.stderr[-2000:]


def variant_stack(workdir: Path, function: str, handler: str) -> Path:
    stack = json.loads(STACK_FILE.read_text())
    stack["functions"][function]["handler"] = f"{BROKEN}.{handler}"
    path = workdir / "stack.json"
    path.write_text(json.dumps(stack))
    return path


@pytest.fixture(autouse=True)
def importable_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stage process imports the broken handlers from this repository's tests package."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )


# A whole conform run takes 30-100 s on a busy 2-core machine: more than the default timeout.
RUN_TIMEOUT = pytest.mark.timeout(600)


@RUN_TIMEOUT
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_suite_fails_the_broken_stage_with_the_right_ids(tmp_path: Path, variant: str):
    """Against each broken variant, conform exits 1 and the failed checks are the expected ones."""
    function, handler, flags, must_fail, may_fail = VARIANTS[variant]
    stack = variant_stack(tmp_path, function, handler)
    stage = start_stage(tmp_path / "stage", "--stack", str(stack), *flags)
    try:
        code, verdicts, output = conform(stage, tmp_path)
    finally:
        stage.stop()
    failed = {check_id for check_id, outcome in verdicts.items() if outcome == "failed"}
    errors = {check_id for check_id, outcome in verdicts.items() if outcome == "error"}
    assert code == 1, f"conform exited {code} against '{variant}':\n{output}"
    assert not errors, f"harness errors {errors}:\n{output}"
    assert must_fail <= failed, f"expected {sorted(must_fail)} to fail, failed: {sorted(failed)}"
    assert failed <= must_fail | may_fail, (
        f"unexpected failures {sorted(failed - must_fail - may_fail)}:\n{output}"
    )


@RUN_TIMEOUT
def test_suite_passes_the_reference_stage_with_a_lagging_disconnect(tmp_path: Path):
    """The correct stage passes every check, even with $disconnect two seconds behind."""
    stage = start_stage(tmp_path / "stage", "--disconnect-delay", "2")
    try:
        code, verdicts, output = conform(stage, tmp_path)
    finally:
        stage.stop()
    assert code == 0, output
    assert verdicts and set(verdicts.values()) == {"passed"}, verdicts
