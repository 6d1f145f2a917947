"""Running ``chatstack conform`` against broken variants of the local stage, for the suite's own
tests (``test_broken_stages.py``, ``tests/browser/test_conformance_report.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reference_stack.definition import STACK_FILE
from tests.support.stage_process import RunningStage, start_stage

__all__ = ["Run", "conform", "importable_broken_handlers", "start_variant"]

REPO = Path(__file__).resolve().parents[2]
CHATSTACK = Path(sys.executable).with_name("chatstack")
BROKEN = "tests.conformance_variants.broken"
# Latency is measured by benchmarks, not asserted by tests: the SHOULD limits are set out of reach.
NO_LATENCY_LIMITS = [
    f"--max-{name}-p95-ms=600000" for name in ("rest", "connect", "send", "broadcast")
]


@dataclass
class Run:
    """One conform run: its exit code, its results document and the end of its output."""

    code: int
    results: dict[str, Any]
    output: str
    workdir: Path

    @property
    def verdicts(self) -> dict[str, str]:
        return {check_id: v["outcome"] for check_id, v in self.results.get("checks", {}).items()}

    def ids(self, outcome: str) -> set[str]:
        return {check_id for check_id, seen in self.verdicts.items() if seen == outcome}

    def junit_verdicts(self) -> dict[str, set[str]]:
        """Check IDs by JUnit element (failure, error, skipped) in the run's JUnit file."""
        found: dict[str, set[str]] = {"failure": set(), "error": set(), "skipped": set()}
        for case in ET.parse(self.workdir / "junit.xml").iter("testcase"):
            check_id = case.get("name", "").split(" ")[0]
            for element in found:
                if case.find(element) is not None:
                    found[element].add(check_id)
        return found

    def html(self) -> str:
        return (self.workdir / "report.html").read_text()


def conform(stage: RunningStage | None, workdir: Path, *extra: str) -> Run:
    """Run ``chatstack conform`` against ``stage`` (with its signing key) writing JSON, JUnit and
    HTML into ``workdir``; ``extra`` options go last (a target of their own, when no stage)."""
    results = workdir / "results.json"
    target = []
    if stage is not None:
        target = ["--rest-url", stage.rest_url, "--ws-url", stage.ws_url]
        target += ["--jwt-secret", stage.jwt_secret]
    run = subprocess.run(
        [
            str(CHATSTACK),
            "conform",
            *target,
            *NO_LATENCY_LIMITS,
            "--results-json",
            str(results),
            "--junit-xml",
            str(workdir / "junit.xml"),
            "--html-report",
            str(workdir / "report.html"),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=workdir,
    )
    document = json.loads(results.read_text()) if results.exists() else {}
    return Run(run.returncode, document, run.stdout[-6000:] + run.stderr[-2000:], workdir)


def importable_broken_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stage process imports the broken handlers from this repository's tests package."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )


def start_variant(workdir: Path, function: str, handler: str, *flags: str) -> RunningStage:
    """A local stage whose ``function`` runs ``broken.<handler>`` instead of its own handler."""
    workdir.mkdir(parents=True, exist_ok=True)
    stack = json.loads(STACK_FILE.read_text())
    stack["functions"][function]["handler"] = f"{BROKEN}.{handler}"
    path = workdir / "stack.json"
    path.write_text(json.dumps(stack))
    return start_stage(workdir / "stage", "--stack", str(path), *flags)
