"""The conformance run's verdict rules: levels, the worst case, the exit code."""

from __future__ import annotations

from conformance.verdicts import (
    EXIT_FAILED,
    EXIT_HARNESS_ERROR,
    EXIT_OK,
    MUST,
    SHOULD,
    counts_by_area_and_level,
    exit_code,
    worst,
)


def verdict(outcome: str, level: str = MUST, area: str = "auth") -> dict[str, str]:
    return {"outcome": outcome, "level": level, "area": area}


def test_a_check_takes_the_worst_outcome_of_its_cases():
    """Error beats failed beats an expected failure beats passed beats skipped."""
    assert worst(["passed", "skipped"]) == "passed"
    assert worst(["passed", "failed", "skipped"]) == "failed"
    assert worst(["failed", "error"]) == "error"
    assert worst(["xpassed", "xfailed"]) == "xfailed"
    assert worst([]) == "skipped"


def test_a_failed_must_check_fails_the_run():
    """One MUST failure gives exit code 1, even beside a harness error."""
    assert exit_code([verdict("passed"), verdict("failed")]) == EXIT_FAILED
    assert exit_code([verdict("error"), verdict("failed")]) == EXIT_FAILED


def test_a_failed_should_check_fails_the_run_only_when_strict():
    """A SHOULD failure is reported but passes the run unless strict."""
    run = [verdict("passed"), verdict("failed", SHOULD)]
    assert exit_code(run) == EXIT_OK
    assert exit_code(run, strict=True) == EXIT_FAILED


def test_a_harness_error_has_its_own_exit_code():
    """A check that could not be judged, with no failure, exits with the harness error code."""
    assert exit_code([verdict("passed"), verdict("error")]) == EXIT_HARNESS_ERROR
    assert EXIT_HARNESS_ERROR not in (0, 1, 2, 3, 4, 5)


def test_expected_failures_pass_and_unexpected_passes_fail_only_when_strict():
    """A listed failure passes the run; a listed check that passed fails it only when strict."""
    assert exit_code([verdict("xfailed"), verdict("skipped")]) == EXIT_OK
    assert exit_code([verdict("xpassed")]) == EXIT_OK
    assert exit_code([verdict("xpassed")], strict=True) == EXIT_FAILED


def test_counts_are_kept_by_area_and_level():
    """The summary counts each outcome per (area, level)."""
    counts = counts_by_area_and_level(
        [verdict("passed"), verdict("failed", SHOULD), verdict("passed", area="routes")]
    )
    assert counts["auth", MUST]["passed"] == 1
    assert counts["auth", SHOULD]["failed"] == 1
    assert counts["routes", MUST]["passed"] == 1
    assert ("routes", SHOULD) not in counts
