"""The run as JUnit XML, for CI: one ``testcase`` per case of a check.

Verdicts map to JUnit's elements so a CI viewer tells them apart: a failed check is a
``failure`` (its ``type`` the level, ``MUST`` or ``SHOULD``), a harness fault an ``error``, a
skipped check or an expected failure ``skipped`` (the reason given), an unexpected pass passes
(a ``failure`` with ``--strict``). The check's ID, area, level, profile, requirement and verdict
are ``property`` elements; a failed case's exchange with the stage is its ``system-out``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

__all__ = ["junit_xml", "write_junit"]

# Characters XML 1.0 cannot carry (control characters, lone surrogates) are shown as escapes.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: object) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m[0]):04x}", str(text))


def _trace_text(case: dict[str, Any]) -> str:
    lines = []
    for event in case.get("trace") or []:
        if event["kind"] == "http":
            body = "" if event.get("body") is None else " " + json.dumps(event["body"])
            lines.append(f"{event['t']:8.3f} {event['request']}{body}")
            lines.append(f"{'':8} -> {event['status']} {event['answer']}")
        else:
            lines.append(
                f"{event.get('t', 0):8.3f} {event.get('connection', '')} {event['kind']} "
                f"{event.get('data') if event.get('data') is not None else ''}"
            )
    return "\n".join(lines)


def junit_xml(results: dict[str, Any]) -> str:
    cases, counts = [], {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for check_id, check in results["checks"].items():
        for case in check["cases"]:
            counts["tests"] += 1
            total_time += case.get("duration", 0.0)
            element = ET.Element(
                "testcase",
                classname=f"chatstack.conformance.{check['area']}",
                name=f"{check_id} {case['name']}",
                time=f"{case.get('duration', 0.0):.3f}",
            )
            properties = ET.SubElement(element, "properties")
            for name in ("check_id", "area", "level", "profile", "requirement"):
                ET.SubElement(properties, "property", name=name, value=str(check[name]))
            ET.SubElement(properties, "property", name="verdict", value=case["outcome"])
            if check.get("expected_failure"):
                ET.SubElement(
                    properties, "property", name="expected_failure", value=check["expected_failure"]
                )
            message = case.get("message") or ""
            outcome = case["outcome"]
            if outcome == "failed":
                counts["failures"] += 1
                failure = ET.SubElement(
                    element, "failure", type=check["level"], message=message[:1000]
                )
                failure.text = case.get("details") or message
            elif outcome == "error":
                counts["errors"] += 1
                error = ET.SubElement(element, "error", type="harness", message=message[:1000])
                error.text = case.get("details") or message
            elif outcome in ("skipped", "xfailed"):
                counts["skipped"] += 1
                text = message
                if outcome == "xfailed":
                    text = f"expected failure ({check['expected_failure']}): {message}"
                ET.SubElement(element, "skipped", type=outcome, message=text[:1000])
            elif outcome == "xpassed" and results.get("strict"):
                counts["failures"] += 1
                ET.SubElement(
                    element,
                    "failure",
                    type="unexpected-pass",
                    message=f"listed as expected to fail ({check['expected_failure']}) but passed",
                )
            trace = _trace_text(case)
            if trace:
                ET.SubElement(element, "system-out").text = trace
            cases.append(element)
    suite = ET.Element(
        "testsuite",
        name="chatstack-conformance",
        time=f"{total_time:.3f}",
        **{k: str(v) for k, v in counts.items()},
    )
    properties = ET.SubElement(suite, "properties")
    target = results.get("target") or {}
    for name in ("rest_url", "ws_url", "source"):
        if name in target:
            ET.SubElement(properties, "property", name=f"target_{name}", value=target[name])
    ET.SubElement(properties, "property", name="exit_code", value=str(results.get("exit_code")))
    suite.extend(cases)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return _xml(ET.tostring(root, encoding="unicode", xml_declaration=True))


def write_junit(results: dict[str, Any], path: str) -> None:
    Path(path).write_text(junit_xml(results), encoding="utf-8")
