"""The conformance suite's HTML report, opened in chromium: a failed check shows its requirement,
its verdict and the exchange that led to it, with tokens and passwords redacted."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conformance_variants.runs import conform, importable_broken_handlers, start_variant


@pytest.fixture(scope="module")
def leaky_run(tmp_path_factory: pytest.TempPathFactory):
    """Two broadcast checks and the broadcast latency check run against a stage whose
    broadcasts leak across rooms."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        importable_broken_handlers(monkeypatch)
        workdir = tmp_path_factory.mktemp("leaky-report")
        stage = start_variant(workdir, "broadcaster", "leaky_broadcaster")
        try:
            run = conform(stage, workdir, "-k", "BCAST-001 or BCAST-002 or LAT-004")
        finally:
            stage.stop()
    assert run.ids("failed") == {"BCAST-002"}, run.output
    return run


def test_a_failed_check_shows_its_exchange_with_the_stage(new_page, leaky_run):
    """The report opens on the verdict; the failed check's row says failed, and its case lists
    the HTTP requests and WebSocket frames, the leaked broadcast among them; the latency
    histogram is drawn."""
    page = new_page()
    page.goto(Path(leaky_run.workdir / "report.html").as_uri())
    expect(page).to_have_title("chatstack conformance: exit code 1")
    expect(page.locator("#verdict")).to_contain_text("not conformant")

    row = page.locator("#BCAST-002")
    expect(row).to_contain_text("a connection that has not joined the room receives none")
    expect(row).to_contain_text("failed")
    trace = page.get_by_role("table", name="exchange of BCAST-002")
    expect(trace).to_be_visible()
    expect(trace).to_contain_text("POST")
    expect(trace).to_contain_text("/signup")
    expect(trace).to_contain_text('"action": "sendMessage"')
    expect(trace).to_contain_text("members only")
    expect(trace).to_contain_text("token=<redacted>")
    expect(trace).to_contain_text('"password": "<redacted>"')
    expect(trace).not_to_contain_text("eyJ")

    expect(page.locator("#BCAST-001")).to_contain_text("passed")
    expect(page.get_by_role("table", name="exchange of BCAST-001")).to_have_count(0)
    expect(page.get_by_role("img", name="histogram of 100 broadcast latencies")).to_be_visible()
    expect(page.locator("#latency")).to_contain_text("LAT-004")
