"""Pass/fail verdicts of a run against thresholds — by default the seed-001 claims: a message is
acknowledged within 100 ms and broadcast within 200 ms (p95), every delivery arrives, and fewer
than 0.1 % of operations fail. Pure code: no locust, no gevent."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from loadtests.metrics import Delivery

__all__ = [
    "Check",
    "Measured",
    "Thresholds",
    "chat_setup_check",
    "judge",
    "passed",
    "render_table",
]

PASS, FAIL, NO_DATA = "PASS", "FAIL", "NO DATA"


@dataclass(frozen=True)
class Thresholds:
    send_p95_ms: float = 100.0
    broadcast_p95_ms: float = 200.0
    min_delivery_pct: float = 100.0
    max_error_rate_pct: float = 0.1

    @classmethod
    def from_options(cls, options: Any) -> Thresholds:
        return cls(
            send_p95_ms=options.send_p95_ms,
            broadcast_p95_ms=options.broadcast_p95_ms,
            min_delivery_pct=options.min_delivery,
            max_error_rate_pct=options.max_error_rate,
        )


@dataclass
class Measured:
    """What a run (or one step of a ramp) measured."""

    send_p95_ms: float | None = None
    sends: int = 0
    broadcast_p95_ms: float | None = None
    broadcasts: int = 0
    operations: int = 0
    failures: int = 0
    delivery: Delivery = field(default_factory=Delivery)


@dataclass
class Check:
    name: str
    threshold: str
    measured: str
    verdict: str
    value: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _latency(name: str, p95: float | None, samples: int, limit: float) -> Check:
    threshold = f"<= {limit:g} ms"
    if p95 is None or samples == 0:
        return Check(name, threshold, "no samples", NO_DATA, None)
    verdict = PASS if p95 <= limit else FAIL
    return Check(name, threshold, f"{p95:g} ms ({samples:,} samples)", verdict, p95)


def judge(limits: Thresholds, measured: Measured) -> list[Check]:
    """One check per threshold; a check without data is NO DATA, never a pass."""
    checks = [
        _latency("sendMessage ack p95", measured.send_p95_ms, measured.sends, limits.send_p95_ms),
        _latency(
            "broadcast latency p95",
            measured.broadcast_p95_ms,
            measured.broadcasts,
            limits.broadcast_p95_ms,
        ),
    ]
    delivery = measured.delivery
    threshold = f">= {limits.min_delivery_pct:g} %"
    if delivery.ratio is None:
        checks.append(Check("delivery", threshold, "no deliveries expected", NO_DATA, None))
    else:
        pct = 100.0 * delivery.ratio
        shown = f"{pct:.2f} % ({delivery.expected - delivery.missing:,}/{delivery.expected:,})"
        verdict = PASS if pct >= limits.min_delivery_pct else FAIL
        checks.append(Check("delivery", threshold, shown, verdict, pct))
    threshold = f"< {limits.max_error_rate_pct:g} %"
    if measured.operations == 0:
        checks.append(Check("error rate", threshold, "no operations", NO_DATA, None))
    else:
        pct = 100.0 * measured.failures / measured.operations
        shown = f"{pct:.3f} % ({measured.failures:,}/{measured.operations:,})"
        verdict = PASS if pct < limits.max_error_rate_pct else FAIL
        checks.append(Check("error rate", threshold, shown, verdict, pct))
    return checks


def chat_setup_check(chats: int, failures: int) -> Check:
    """The chats scenario's setup: every chat created, and a direct chat created by both of
    its users at once one chat (two answers naming two chats fail it)."""
    if chats == 0:
        return Check("chat setup", "every chat", "no chats", NO_DATA, None)
    shown = f"{chats - failures:,}/{chats:,} chats"
    return Check("chat setup", "every chat", shown, FAIL if failures else PASS, float(failures))


def passed(checks: list[Check]) -> bool:
    """No check failed, and at least one had data."""
    return all(c.verdict != FAIL for c in checks) and any(c.verdict == PASS for c in checks)


def render_table(title: str, checks: list[Check], notes: list[str] | None = None) -> str:
    """The verdict as a fixed-width text table, with the overall verdict last."""
    header = ("check", "threshold", "measured", "verdict")
    rows = [header] + [(c.name, c.threshold, c.measured, c.verdict) for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    out = [title, line]
    for i, row in enumerate(rows):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            out.append(line)
    out.append(line)
    out.extend(notes or [])
    out.append(f"verdict: {PASS if passed(checks) else FAIL}")
    return "\n".join(out)
