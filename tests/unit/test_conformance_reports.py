"""The conformance run's reports: redaction, the expected-failures list, JUnit, HTML and text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conformance.expectations import ExpectationError, parse_expectations
from conformance.report_html import histogram_svg, html_report
from conformance.report_junit import junit_xml
from conformance.report_text import summary_lines
from conformance.trace import Redactor, Trace

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
AREAS = ["auth", "broadcast", "latency"]


def test_redaction_removes_tokens_passwords_hashes_and_known_secrets():
    """JWTs, ?token= values, bcrypt hashes, password fields and the run's secrets are gone."""
    redact = Redactor(["stage-signing-key-123"])
    text = (
        f'ws://h/dev?token={JWT} {{"token": "{JWT}", "password": "hunter22 x", '
        '"passwordHash": "$2b$12$' + "a" * 53 + '"} key=stage-signing-key-123'
    )
    cleaned = redact.text(text)
    for secret in (JWT, "hunter22", "$2b$12$", "stage-signing-key-123"):
        assert secret not in cleaned
    assert "token=<redacted>" in cleaned and '"password": "<redacted>"' in cleaned


def test_redaction_of_data_replaces_secret_named_fields():
    """In JSON-like data, fields named for secrets are replaced whatever their value."""
    data = {"email": "a@b.io", "password": "x" * 9, "user": {"token": "t", "name": JWT}}
    assert Redactor().data(data) == {
        "email": "a@b.io",
        "password": "<redacted>",
        "user": {"token": "<redacted>", "name": "<redacted token>"},
    }


def test_a_trace_keeps_a_bounded_number_of_clipped_events():
    """Long bodies are clipped and events beyond the limit are counted, not kept."""
    recorded = Trace()
    recorded.http("POST", "http://h/dev/signup", {"a": 1}, 201, "x" * 5000)
    for _ in range(400):
        recorded.ws(object(), "send", "{}")
    events = recorded.as_list()
    assert events[0]["answer"].endswith("(5,000 characters)")
    assert len(events) == 301 and events[-1]["data"] == "101 more events not kept"


def test_the_expected_failures_list_needs_an_id_and_a_reason_per_line():
    """Comments and blank lines are skipped; a line without a reason or a repeated ID is refused."""
    text = "# ours\n\nSEC-006  the authorizer caches tokens\nLAT-002 proxy in the way  \n"
    assert parse_expectations(text) == {
        "SEC-006": "the authorizer caches tokens",
        "LAT-002": "proxy in the way",
    }
    with pytest.raises(ExpectationError, match="line 1"):
        parse_expectations("SEC-006\n")
    with pytest.raises(ExpectationError, match="listed twice"):
        parse_expectations("SEC-006 a\nSEC-006 b\n")


def results(**overrides) -> dict:
    failed_case = {
        "name": "check_leak",
        "nodeid": "checks/check_broadcast.py::check_leak",
        "outcome": "failed",
        "duration": 0.5,
        "message": "AssertionError: leaked <b>",
        "details": "Traceback ...",
        "trace": [
            {
                "t": 0.1,
                "kind": "http",
                "request": "POST http://h/dev/signup",
                "body": {"a": 1},
                "status": 201,
                "answer": "{}",
            },
            {"t": 0.2, "kind": "send", "connection": "ws1", "data": '{"action": "sendMessage"}'},
        ],
    }

    def check(check_id, area, level, outcome, cases, **extra):
        return {
            "check_id": check_id,
            "area": area,
            "level": level,
            "profile": "core",
            "requirement": f"{check_id} requirement",
            "outcome": outcome,
            "message": "",
            "duration": 0.5,
            "expected_failure": None,
            "measured": None,
            "cases": cases,
            **extra,
        }

    passed = [{"name": "c", "nodeid": "n", "outcome": "passed", "duration": 0.1, "message": ""}]
    data = {
        "target": {"rest_url": "http://h/dev", "ws_url": "ws://h/dev", "source": "urls"},
        "profiles": ["core"],
        "strict": False,
        "settings": {"timeout_s": 5.0},
        "exit_code": 1,
        "checks": {
            "AUTH-001": check("AUTH-001", "auth", "MUST", "passed", passed),
            "BCAST-002": check(
                "BCAST-002", "broadcast", "MUST", "failed", [failed_case], message="leaked <b>"
            ),
            "LAT-004": check(
                "LAT-004",
                "latency",
                "SHOULD",
                "failed",
                [{**passed[0], "outcome": "failed", "message": "slow"}],
                measured={"summary": "broadcast p95 250 ms (limit 200 ms)"},
            ),
        },
        "broadcast_latency_ms": [10.0, 20.0, 250.0],
    }
    return {**data, **overrides}


def test_junit_tells_must_and_should_failures_and_harness_errors_apart():
    """A MUST failure, a SHOULD failure (typed so) and a harness error map to JUnit elements."""
    data = results()
    data["checks"]["AUTH-001"]["cases"][0]["outcome"] = "error"
    suite = ET.fromstring(junit_xml(data))[0]
    assert suite.get("tests") == "3" and suite.get("failures") == "2" and suite.get("errors") == "1"
    cases = {case.get("name").split()[0]: case for case in suite.iter("testcase")}
    assert cases["BCAST-002"].find("failure").get("type") == "MUST"
    assert cases["LAT-004"].find("failure").get("type") == "SHOULD"
    assert cases["AUTH-001"].find("error").get("type") == "harness"
    assert "sendMessage" in cases["BCAST-002"].find("system-out").text


def test_the_html_report_is_one_page_with_every_check_and_the_failed_ones_trace():
    """The page has the verdict, the summary, the histogram and a failed check's exchange,
    escaped, with no external resource."""
    page = html_report(results(), AREAS)
    assert page.startswith("<!doctype html>") and "<script" not in page and "src=" not in page
    assert 'id="BCAST-002" class="check failed"' in page
    assert "leaked &lt;b&gt;" in page and "leaked <b>" not in page
    assert 'aria-label="exchange of BCAST-002 check_leak"' in page
    assert "failed (SHOULD)" in page and "broadcast p95 250 ms" in page
    assert 'aria-label="histogram of 3 broadcast latencies"' in page


def test_the_histogram_counts_every_value():
    """Each value falls in one bar; the bars' counts add up to the values."""
    svg = histogram_svg([1.0, 2.0, 39.0, 40.0], bins=4)
    counts = [int(part.split(": ")[1].split("<")[0]) for part in svg.split("<title>")[1:]]
    assert sum(counts) == 4


def test_the_text_summary_counts_by_area_and_level_and_explains_the_exit_code():
    """The summary's rows are per area and level; a SHOULD failure is labelled and counted apart."""
    lines = summary_lines(results(), AREAS)
    assert any(line.startswith("broadcast  MUST") for line in lines)
    assert any(line.startswith("FAILED (SHOULD) LAT-004") for line in lines)
    assert lines[-1].startswith("exit code 1: not conformant; 1 SHOULD check(s) failed")
