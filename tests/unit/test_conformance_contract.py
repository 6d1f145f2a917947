"""The contract and the suite agree: every check is cited by a clause of its level, and every
check a clause cites exists."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import conformance.checks

CONTRACTS = sorted(Path(conformance.checks.__file__).parents[1].glob("*.md"))
CITATION = re.compile(r"\b([A-Z]+)-(\d{3})(?:…(\d{3}))?")


def suite_checks() -> dict[str, str]:
    """{check ID: level} of every check of the suite."""
    found = {}
    for module_info in pkgutil.iter_modules(conformance.checks.__path__):
        module = importlib.import_module(f"conformance.checks.{module_info.name}")
        for name, function in vars(module).items():
            if not name.startswith("check_"):
                continue
            for mark in getattr(function, "pytestmark", []):
                if mark.name == "check":
                    found[mark.args[0]] = mark.args[1]
    return found


def clauses() -> list[str]:
    """The contracts' clauses: paragraphs, and list items and table rows each with the sentence
    that introduces their list or table."""
    found = []
    for path in CONTRACTS:
        previous = ""
        for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            if block.lstrip().startswith("|"):
                found.extend(f"{previous}\n{row}" for row in block.splitlines())
            elif block.lstrip().startswith("- "):
                found.extend(f"{previous}\n{item}" for item in re.split(r"\n(?=- )", block))
            else:
                found.append(block)
                previous = block
    return found


def citations() -> list[tuple[str, str]]:
    """(check ID, its clause) for every check a contract cites (``AUTH-002…005`` is a range)."""
    cited = []
    for clause in clauses():
        for prefix, first, last in CITATION.findall(clause):
            for number in range(int(first), int(last or first) + 1):
                cited.append((f"{prefix}-{number:03d}", clause))
    return cited


def test_every_check_is_cited_by_the_contract_and_every_citation_is_a_check():
    """No check asserts what no clause promises, and no clause cites a check that is missing."""
    checks = suite_checks()
    cited = {check_id for check_id, _ in citations()}
    assert set(checks) - cited == set(), "checks no clause cites"
    assert cited - set(checks) == set(), "cited checks the suite does not have"


def test_every_citation_sits_in_a_clause_of_the_checks_level():
    """A MUST check is cited where the contract says MUST, a SHOULD check where it says SHOULD."""
    checks = suite_checks()
    wrong = [
        (check_id, checks[check_id])
        for check_id, clause in citations()
        if check_id in checks and checks[check_id] not in clause
    ]
    assert wrong == []
