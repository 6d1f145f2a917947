"""The conformance suite fails deliberately broken stages, naming the right checks — and passes
the reference stage under the same conditions; its verdicts, exit codes and reports say so."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conformance.verdicts import EXIT_FAILED, EXIT_HARNESS_ERROR, EXIT_OK
from tests.conformance_variants.runs import conform, importable_broken_handlers, start_variant
from tests.support.stage_process import start_stage


@dataclass(frozen=True)
class Variant:
    function: str  # the function replaced
    handler: str  # its broken handler in broken.py
    must_fail: set[str]
    may_fail: set[str] = field(default_factory=set)
    flags: tuple[str, ...] = ()  # extra stage flags
    # The profile checked: each defect is run against the checks of its own contract version.
    profile: str = "core"

    @property
    def areas(self) -> str:
        """A ``-k`` expression for the areas the defect reaches (the whole suite runs against
        the reference stage; a broken one is checked where its failures are expected)."""
        return " or ".join(sorted({i.split("-")[0] for i in self.must_fail | self.may_fail}))


VARIANTS = {
    "broadcast leaks across rooms": Variant(
        "broadcaster", "leaky_broadcaster", {"BCAST-002", "BCAST-003", "BCAST-008", "BCAST-009"}
    ),
    "$connect accepts bad tokens": Variant(
        "connect",
        "trusting_connect",
        {"CONN-002", "SEC-002", "SEC-003", "SEC-004", "SEC-005", "SEC-006"},
    ),
    "broadcaster stops at the first 410": Variant(
        # $disconnect lags behind the close, as it may on AWS: gone connections stay listed.
        "broadcaster",
        "give_up_broadcaster",
        {"LIFE-002"},
        {"LIFE-001", "LIFE-003", "CONN-003"},
        ("--disconnect-delay", "2"),
    ),
    "broadcaster silently loses part of a sender's run for some members": Variant(
        "broadcaster", "lossy_broadcaster", {"BCAST-007", "BCAST-008", "BCAST-009"}
    ),
    "broadcaster silently loses a room's later senders for some members": Variant(
        "broadcaster", "later_senders_lossy_broadcaster", {"BCAST-007", "BCAST-008", "BCAST-009"}
    ),
    "signup returns the password hash": Variant("signup", "hash_returning_signup", {"SEC-001"}),
    "a chat's history is readable by anyone": Variant(
        "chat_messages",
        "leaky_chat_history",
        {"CHAT-010", "CHAT-019"},  # an outsider reads it; so does one who left
        profile="chats",
    ),
    "a direct chat is created anew at every request": Variant(
        "create_chat", "duplicating_create_chat", {"CHAT-002", "CHAT-003"}, profile="chats"
    ),
    "a receipt marker moves backwards": Variant(
        # In chats, and in rooms: there a delivered receipt below the read marker moves too.
        "receipt",
        "backward_receipt",
        {"RCPT-003", "RCPT-011", "RCPT-012"},
        profile="receipts",
    ),
    "typing leaks to non-participants": Variant(
        "send_typing", "leaky_typing", {"TYPE-002"}, profile="receipts"
    ),
    "presence never goes offline": Variant(
        "disconnect",
        "sticky_presence_disconnect",
        {"PRES-002", "PRES-003", "PRES-004", "PRES-005"},
        profile="receipts",
    ),
    "anyone gets a download URL of any file": Variant(
        "attachment_url", "leaky_attachment_url", {"MEDIA-011"}, profile="media"
    ),
    "attachments are stored as declared, unchecked": Variant(
        "send_message", "trusting_send_message", {"MEDIA-009", "MEDIA-010"}, profile="media"
    ),
    "the upload policy leaves type and size to the client": Variant(
        "upload_url", "lax_upload_url", {"MEDIA-006", "MEDIA-007"}, profile="media"
    ),
    "files download inline as stored": Variant(
        "attachment_url", "inline_attachment_url", {"MEDIA-013"}, profile="media"
    ),
}
# Run with an expected-failures list instead (test_an_expected_failures_list_turns_the_run_green).
HISTORY_NEWEST_FIRST = Variant(
    "get_messages",
    "newest_first_history",
    # getMessages answers chats' history too: the default run's chats profile catches it there.
    {"HIST-001", "HIST-002", "HIST-004", "HIST-006", "CHAT-024"},
    profile="core,chats",
)
# The stage cannot wait for these in a run against a stage it did not start (skipped, with why).
NEEDS_SHORT_LIMITS = {"LIFE-005", "LIFE-006", "MEDIA-014"}

# A whole conform run takes 30-110 s on a busy 2-core machine: more than the default timeout.
RUN_TIMEOUT = pytest.mark.timeout(600)


@pytest.fixture(autouse=True)
def importable_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    importable_broken_handlers(monkeypatch)


@RUN_TIMEOUT
@pytest.mark.parametrize("name", list(VARIANTS))
def test_suite_fails_the_broken_stage_with_the_right_ids(tmp_path: Path, name: str):
    """Against each broken variant, the checks of the areas its defect reaches: conform exits 1,
    the failed checks are the expected ones (no other check of those areas fails), and the JUnit
    and HTML reports show each failure (the HTML with its exchange)."""
    variant = VARIANTS[name]
    stage = start_variant(tmp_path, variant.function, variant.handler, *variant.flags)
    try:
        run = conform(stage, tmp_path, "--profile", variant.profile, "-k", variant.areas)
    finally:
        stage.stop()
    failed, errors = run.ids("failed"), run.ids("error")
    assert run.code == EXIT_FAILED, f"conform exited {run.code} against '{name}':\n{run.output}"
    assert not errors, f"harness errors {errors}:\n{run.output}"
    assert variant.must_fail <= failed, (
        f"expected {sorted(variant.must_fail)} to fail, failed: {sorted(failed)}"
    )
    unexpected = failed - variant.must_fail - variant.may_fail
    assert not unexpected, f"unexpected failures {sorted(unexpected)}:\n{run.output}"
    assert run.junit_verdicts()["failure"] == failed
    html = run.html()
    for check_id in failed:
        assert f'id="{check_id}" class="check failed"' in html, f"{check_id} not in the report"
    assert 'class="trace"' in html and "eyJ" not in html, "traces must be there, tokens not"


@RUN_TIMEOUT
def test_an_expected_failures_list_turns_the_run_green(tmp_path: Path):
    """Listed failures of a broken stage are reported as expected and the run exits 0; a listed
    check that passes is reported as unexpectedly passing."""
    variant = HISTORY_NEWEST_FIRST
    listed = tmp_path / "expected-failures.txt"
    listed.write_text(
        "# the newest-first history variant\n"
        + "".join(f"{check_id}  history comes newest first\n" for check_id in variant.must_fail)
        + "HIST-005  listed although it passes\n"
    )
    stage = start_variant(tmp_path, variant.function, variant.handler)
    try:
        run = conform(stage, tmp_path, "--expect-fail", str(listed), "-k", variant.areas)
    finally:
        stage.stop()
    assert run.code == EXIT_OK, f"conform exited {run.code}:\n{run.output}"
    assert run.ids("xfailed") == variant.must_fail, run.output
    assert run.ids("xpassed") == {"HIST-005"}, run.output
    assert not run.ids("failed") and not run.ids("error"), run.output
    assert "XFAIL" in run.output and "history comes newest first" in run.output
    assert "take it off the list" in run.output


@RUN_TIMEOUT
def test_suite_passes_the_reference_stage_with_a_lagging_disconnect(tmp_path: Path):
    """The correct stage passes every check, even with $disconnect two seconds behind; only the
    checks that need shorter connection limits than a run can wait for are skipped."""
    stage = start_stage(tmp_path / "stage", "--disconnect-delay", "2")
    try:
        run = conform(stage, tmp_path)
    finally:
        stage.stop()
    assert run.code == EXIT_OK, run.output
    assert run.ids("skipped") == NEEDS_SHORT_LIMITS, run.output
    assert set(run.verdicts) - NEEDS_SHORT_LIMITS == run.ids("passed"), run.verdicts


@RUN_TIMEOUT
def test_checks_standing_on_a_failed_step_are_errors_not_failures(tmp_path: Path):
    """When no fresh user can log in, the login checks fail, and every check that needs a
    logged-in user is an error naming the precondition — not a failure of its requirement."""
    stage = start_variant(tmp_path, "login", "refusing_login")
    try:
        run = conform(stage, tmp_path)
    finally:
        stage.stop()
    failed, errors = run.ids("failed"), run.ids("error")
    assert run.code == EXIT_FAILED, run.output
    assert failed == {"AUTH-011", "AUTH-016", "SEC-010"}, run.output
    assert {"BCAST-001", "CONN-001", "HIST-001", "LIFE-001", "LAT-003"} <= errors, run.output
    for check_id in errors:
        message = run.results["checks"][check_id]["message"]
        assert "precondition" in message, f"{check_id}: {message}"
    assert run.junit_verdicts()["error"] == errors


def test_an_unreachable_stage_is_a_harness_error(tmp_path: Path):
    """With nothing at the stage's URLs, every check is an error and conform exits with the
    harness error code, not the failure code."""
    run = conform(
        None, tmp_path, "--rest-url", "http://127.0.0.1:9/dev", "--ws-url", "ws://127.0.0.1:9/dev"
    )
    assert run.code == EXIT_HARNESS_ERROR, run.output
    assert set(run.verdicts.values()) == {"error"}, run.verdicts
    messages = {check["message"] for check in run.results["checks"].values()}
    assert all("nothing answers at http://127.0.0.1:9/dev" in m for m in messages), messages
