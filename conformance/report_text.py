"""The run's summary as text lines (the terminal's ``chatstack conformance`` section).

Pure: it reads the results (``plugin.Reporter.results()``, the same data as ``--results-json``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from conformance.verdicts import EXIT_CODES, LEVELS, OUTCOMES, SHOULD, counts_by_area_and_level

__all__ = ["latency_line", "percentile", "summary_lines"]

LABELS = {
    "failed": "FAILED",
    "error": "ERROR",
    "xpassed": "XPASS",
    "xfailed": "XFAIL",
    "skipped": "SKIPPED",
}
GROUP_ABOVE = 3  # identical messages of more checks than this are printed once


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of non-empty ``values``."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[min(len(ordered), int(rank)) - 1]


def latency_line(latencies: list[float]) -> str | None:
    if not latencies:
        return None
    return (
        f"broadcast latency, send to receive ({len(latencies)} deliveries): "
        f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
        f"max {max(latencies):.1f} ms"
    )


def _label(verdict: dict[str, Any]) -> str:
    label = LABELS[verdict["outcome"]]
    if verdict["outcome"] == "failed" and verdict["level"] == SHOULD:
        return f"{label} (SHOULD)"
    return label


def summary_lines(results: dict[str, Any], areas: list[str]) -> list[str]:
    """The summary: target, counts by area and level, every check that did not simply pass
    (with its first message line, or the reason it was expected to fail), measured latencies,
    and the exit code."""
    checks: dict[str, dict[str, Any]] = results["checks"]
    lines = []
    target = results.get("target")
    if target:
        lines.append(f"target: {target['rest_url']} {target['ws_url']} ({target['source']})")
    counts = counts_by_area_and_level(checks.values())
    lines.append(f"{'area':<10} {'level':<6} " + " ".join(f"{o:>7}" for o in OUTCOMES))
    for area in areas:
        for level in LEVELS:
            c = counts.get((area, level))
            if c:
                lines.append(f"{area:<10} {level:<6} " + " ".join(f"{c[o]:>7}" for o in OUTCOMES))
    for outcome in ("failed", "error", "xpassed", "xfailed", "skipped"):
        by_message: dict[str, list[str]] = defaultdict(list)
        for check_id, verdict in checks.items():
            if verdict["outcome"] == outcome:
                note = _note(verdict)
                by_message[note].append(check_id)
        for note, ids in by_message.items():
            if len(ids) > GROUP_ABOVE:
                lines.append(f"{LABELS[outcome]:<15} {len(ids)} checks ({', '.join(ids)})")
                lines.append(f"{'':<26} {note}")
                continue
            for check_id in ids:
                verdict = checks[check_id]
                lines.append(f"{_label(verdict):<15} {check_id:<10} {verdict['requirement']}")
                if note:
                    lines.append(f"{'':<26} {note}")
    for check_id, verdict in checks.items():
        measured = verdict.get("measured")
        if measured:
            lines.append(f"{check_id}: {measured['summary']}")
    latency = latency_line(results.get("broadcast_latency_ms") or [])
    if latency:
        lines.append(latency)
    code = results.get("exit_code")
    if code is not None:
        should = sum(
            1 for v in checks.values() if v["outcome"] == "failed" and v["level"] == SHOULD
        )
        note = f"; {should} SHOULD check(s) failed" if should else ""
        if should and not results.get("strict"):
            note += " (counted apart; --strict fails the run on them)"
        lines.append(f"exit code {code}: {EXIT_CODES[code].split(':')[0]}{note}")
    return lines


def _note(verdict: dict[str, Any]) -> str:
    first = (verdict.get("message") or "").strip().splitlines()
    message = first[0][:160] if first else ""
    reason = verdict.get("expected_failure")
    if verdict["outcome"] == "xfailed":
        return f"expected: {reason} — {message}"
    if verdict["outcome"] == "xpassed":
        return f"listed as expected to fail ({reason}) but passed: take it off the list"
    return message
