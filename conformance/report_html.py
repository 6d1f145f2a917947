"""The run as one self-contained HTML page (``--html-report FILE``): no script, no external file.

It shows the target and the run's settings, the summary by area and level, the measured
latencies against their limits with a histogram of the broadcast latencies, and every check
with its requirement, level, verdict and duration; a check that did not pass opens on its cases,
each with the failure and what it exchanged with the stage (HTTP requests and answers,
WebSocket frames — tokens, passwords and secrets already redacted by the plugin).
Pure: it reads the results (``plugin.Reporter.results()``).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from conformance.report_text import percentile
from conformance.verdicts import EXIT_CODES, LEVELS, OUTCOMES, SHOULD, counts_by_area_and_level

__all__ = ["histogram_svg", "html_report", "write_html_report"]

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 2rem;
       color: #1d1d1f; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25rem .5rem;
  border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f5f5f7; } .n { text-align: right; font-variant-numeric: tabular-nums; }
tr.check td:first-child { white-space: nowrap; font-weight: 600; }
.verdict { font-size: 1.1rem; font-weight: 600; padding: .5rem .8rem; border-radius: 6px;
  display: inline-block; }
.ok { background: #e3f6e8; color: #14532d; } .bad { background: #fde8e8; color: #7f1d1d; }
.unknown { background: #fff4d6; color: #713f12; }
.badge { font-weight: 600; padding: 0 .4rem; border-radius: 4px; white-space: nowrap; }
.passed { background: #e3f6e8; color: #14532d; } .failed { background: #fde8e8; color: #7f1d1d; }
.error { background: #fff4d6; color: #713f12; } .skipped { background: #eee; color: #444; }
.xfailed { background: #e8eefd; color: #1e3a8a; } .xpassed { background: #f3e8fd; color: #581c87; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
pre { white-space: pre-wrap; word-break: break-word; background: #f8f8fa; padding: .5rem;
  margin: .3rem 0; }
.trace td { font-family: ui-monospace, monospace; font-size: 12px; }
.trace td.dir { white-space: nowrap; } details { margin: .3rem 0 .8rem; }
summary { cursor: pointer; font-weight: 600; }
"""


DIRECTIONS = {"send": "sent →", "receive": "← received"}


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def histogram_svg(values: list[float], bins: int = 20, width: int = 720, height: int = 180) -> str:
    """An inline SVG histogram of ``values`` (milliseconds)."""
    if not values:
        return "<p>No broadcast latency was measured.</p>"
    top = max(values)
    size = max(1.0, -(-top // bins))  # whole milliseconds per bin
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int(value // size))] += 1
    tallest = max(counts)
    bar = width / bins
    chart = height - 30
    room = 14  # above the tallest bar, for its count
    parts = [
        f'<svg role="img" aria-label="histogram of {len(values)} broadcast latencies" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for i, count in enumerate(counts):
        h = (chart - room) * count / tallest
        x = i * bar
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{chart - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
            f'fill="#4f7bd9"><title>{i * size:.0f}-{(i + 1) * size:.0f} ms: {count}</title></rect>'
        )
        if count:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{chart - h - 3:.1f}" font-size="10" '
                f'text-anchor="middle">{count}</text>'
            )
    for i in range(0, bins + 1, 5):
        anchor = "start" if i == 0 else "end" if i == bins else "middle"
        parts.append(
            f'<text x="{i * bar:.1f}" y="{height - 8}" font-size="11" text-anchor="{anchor}">'
            f"{i * size:.0f} ms</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _trace_rows(trace: list[dict[str, Any]]) -> str:
    rows = []
    for event in trace:
        if event["kind"] == "http":
            body = "" if event.get("body") is None else _json(event["body"])
            rows.append(
                f'<tr><td class="n">{event["t"]:.3f}</td><td>HTTP</td><td class="dir">request</td>'
                f"<td>{_e(event['request'])} {_e(body)}</td></tr>"
                f'<tr><td></td><td></td><td class="dir">answer</td>'
                f"<td>{_e(event['status'])} {_e(event['answer'])}</td></tr>"
            )
        else:
            direction = {"send": "sent →", "receive": "← received"}.get(
                event["kind"], event["kind"]
            )
            data = "" if event.get("data") is None else _json(event["data"])
            rows.append(
                f'<tr><td class="n">{event.get("t", "")}</td><td>{_e(event.get("connection", ""))}'
                f'</td><td class="dir">{_e(direction)}</td><td>{_e(data)}</td></tr>'
            )
    return "".join(rows)


def _case(check: dict[str, Any], case: dict[str, Any]) -> str:
    parts = [
        f'<details open class="case"><summary><span class="badge {case["outcome"]}">'
        f"{_e(case['outcome'])}</span> {_e(case['name'])} ({case.get('duration', 0):.2f} s)"
        "</summary>"
    ]
    if case.get("message"):
        parts.append(f'<pre class="message">{_e(case["message"])}</pre>')
    if case.get("details") and case["details"] != case.get("message"):
        parts.append(f"<details><summary>traceback</summary><pre>{_e(case['details'])}</pre>")
        parts.append("</details>")
    if case.get("trace"):
        parts.append(
            f'<table class="trace" aria-label="exchange of {_e(check["check_id"])} '
            f'{_e(case["name"])}"><thead><tr><th>s</th><th>via</th><th></th><th>content</th>'
            f"</tr></thead><tbody>{_trace_rows(case['trace'])}</tbody></table>"
        )
    parts.append("</details>")
    return "".join(parts)


def html_report(results: dict[str, Any], areas: list[str]) -> str:
    checks: dict[str, dict[str, Any]] = results["checks"]
    code = results.get("exit_code")
    verdict_class = {0: "ok", 1: "bad"}.get(code, "unknown")
    meaning = EXIT_CODES.get(code, "the run did not finish") if code is not None else "not run"
    target = results.get("target") or {}
    settings = results.get("settings") or {}
    out = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>chatstack conformance: exit code {_e(code)}</title>",
        f"<style>{STYLE}</style></head><body><header><h1>chatstack conformance</h1>",
        f'<p class="verdict {verdict_class}" id="verdict">exit code {_e(code)}: {_e(meaning)}</p>',
        "<dl>",
        f"<dt>REST URL</dt><dd>{_e(target.get('rest_url', ''))}</dd>",
        f"<dt>WebSocket URL</dt><dd>{_e(target.get('ws_url', ''))}</dd>",
        f"<dt>target</dt><dd>{_e(target.get('source', ''))}</dd>",
        f"<dt>generated</dt><dd>{_e(results.get('generated', ''))}</dd>",
        f"<dt>profiles</dt><dd>{_e(', '.join(results.get('profiles', [])))}</dd>",
        f"<dt>strict</dt><dd>{_e(results.get('strict', False))}</dd>",
    ]
    for name, value in settings.items():
        out.append(f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>")
    out.append("</dl></header>")

    counts = counts_by_area_and_level(checks.values())
    out.append('<section id="summary"><h2>Summary by area and level</h2><table><thead><tr>')
    out.append("<th>area</th><th>level</th>" + "".join(f'<th class="n">{o}</th>' for o in OUTCOMES))
    out.append("</tr></thead><tbody>")
    for area in areas:
        for level in LEVELS:
            c = counts.get((area, level))
            if c:
                out.append(f"<tr><td>{_e(area)}</td><td>{level}</td>")
                out.append("".join(f'<td class="n">{c[o]}</td>' for o in OUTCOMES) + "</tr>")
    out.append("</tbody></table></section>")

    latencies = results.get("broadcast_latency_ms") or []
    out.append('<section id="latency"><h2>Latency</h2>')
    measured = [(i, c) for i, c in checks.items() if c.get("measured")]
    if measured:
        out.append("<table><thead><tr><th>check</th><th>measured</th><th>verdict</th></tr>")
        out.append("</thead><tbody>")
        for check_id, check in measured:
            out.append(
                f'<tr><td><a href="#{_e(check_id)}">{_e(check_id)}</a></td>'
                f"<td>{_e(check['measured']['summary'])}</td><td>"
                f'<span class="badge {check["outcome"]}">{_e(check["outcome"])}</span></td></tr>'
            )
        out.append("</tbody></table>")
    if latencies:
        out.append(
            f"<p>Broadcast latency, send to receive, over {len(latencies)} deliveries of the "
            f"run: p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} "
            f"ms, max {max(latencies):.1f} ms.</p>"
        )
    out.append(histogram_svg(latencies))
    out.append("</section>")

    out.append('<section id="checks"><h2>Checks</h2><table><thead><tr><th>check</th>')
    out.append("<th>level</th><th>area</th><th>requirement</th><th>verdict</th>")
    out.append('<th class="n">duration</th><th class="n">cases</th></tr></thead><tbody>')
    for check_id, check in checks.items():
        outcome = check["outcome"]
        label = (
            f"{outcome} (SHOULD)" if outcome == "failed" and check["level"] == SHOULD else outcome
        )
        out.append(
            f'<tr id="{_e(check_id)}" class="check {outcome}"><td>{_e(check_id)}</td>'
            f"<td>{_e(check['level'])}</td><td>{_e(check['area'])}</td>"
            f"<td>{_e(check['requirement'])}</td>"
            f'<td><span class="badge {outcome}">{_e(label)}</span></td>'
            f'<td class="n">{check.get("duration", 0):.2f} s</td>'
            f'<td class="n">{len(check["cases"])}</td></tr>'
        )
        notes = []
        if check.get("expected_failure"):
            notes.append(f"<p>Expected to fail: {_e(check['expected_failure'])}</p>")
        if outcome == "skipped" and check.get("message"):
            notes.append(f"<p>Skipped: {_e(check['message'])}</p>")
        shown = [c for c in check["cases"] if c["outcome"] in ("failed", "error", "xfailed")]
        notes.extend(_case(check, case) for case in shown)
        if notes:
            out.append(f'<tr class="detail"><td></td><td colspan="6">{"".join(notes)}</td></tr>')
    out.append("</tbody></table></section></body></html>")
    return "\n".join(out)


def write_html_report(results: dict[str, Any], areas: list[str], path: str) -> None:
    Path(path).write_text(html_report(results, areas), encoding="utf-8", errors="replace")
