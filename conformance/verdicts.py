"""Verdicts of a conformance run: requirement levels, outcomes, the summary and the exit code.

Pure code (no pytest, no sockets), so the rules are unit-tested on their own.

Levels are RFC 2119's: a ``MUST`` check that fails means the stage breaks the contract; a
``SHOULD`` check that fails is reported and counted apart, and fails the run only with
``--strict``.

Outcomes of one check (over its cases, the worst wins):

- ``error``: the harness could not judge (stage unreachable, a precondition step failed);
- ``failed``: the stage broke the requirement;
- ``xfailed``: it failed, and the run's expected-failures list says so (with a reason);
- ``xpassed``: it is on that list, but passed (the list can shrink);
- ``passed``;
- ``skipped``: not run (a profile or option the stage or run does not offer) — never a pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "EXIT_CODES",
    "EXIT_FAILED",
    "EXIT_HARNESS_ERROR",
    "EXIT_OK",
    "LEVELS",
    "MUST",
    "OUTCOMES",
    "SHOULD",
    "counts_by_area_and_level",
    "exit_code",
    "worst",
]

MUST = "MUST"
SHOULD = "SHOULD"
LEVELS = (MUST, SHOULD)

OUTCOMES = ("passed", "failed", "xfailed", "xpassed", "skipped", "error")
_RANK = {"skipped": 0, "passed": 1, "xpassed": 2, "xfailed": 3, "failed": 4, "error": 5}

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_HARNESS_ERROR = 6
EXIT_CODES = {
    0: "conformant: every check that ran passed (or failed as the expected-failures list says); "
    "SHOULD failures are reported",
    1: "not conformant: a MUST check failed (with --strict also a SHOULD check, or a listed "
    "check that passed)",
    2: "interrupted, or a bad command line",
    3: "internal error of pytest",
    4: "usage error (pytest's options, an unreadable --expect-fail file)",
    5: "no check was selected (e.g. -k matched nothing)",
    6: "harness error: no check failed, but at least one could not be judged (the stage "
    "unreachable, a precondition step failed) — the stage's conformance is unknown",
}


def worst(outcomes: Iterable[str]) -> str:
    """The outcome of a check from the outcomes of its cases (error > failed > ... > skipped)."""
    return max(outcomes, key=_RANK.__getitem__, default="skipped")


def counts_by_area_and_level(
    verdicts: Iterable[Mapping[str, Any]],
) -> dict[tuple[str, str], dict[str, int]]:
    """``{(area, level): {outcome: count}}`` over one verdict per check."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
    for verdict in verdicts:
        counts[verdict["area"], verdict["level"]][verdict["outcome"]] += 1
    return dict(counts)


def exit_code(verdicts: Iterable[Mapping[str, Any]], strict: bool = False) -> int:
    """The run's exit code (see ``EXIT_CODES``): a failure proven beats a check not judged."""
    verdicts = list(verdicts)
    for verdict in verdicts:
        outcome, level = verdict["outcome"], verdict["level"]
        if outcome == "failed" and (level == MUST or strict):
            return EXIT_FAILED
        if outcome == "xpassed" and strict:
            return EXIT_FAILED
    if any(verdict["outcome"] == "error" for verdict in verdicts):
        return EXIT_HARNESS_ERROR
    return EXIT_OK
