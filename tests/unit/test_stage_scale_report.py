"""The stage-scale benchmark's report keeps every part when it is measured part by part."""

from benchmarks.stage_scale import merge, report


def _row(target: str, members: int) -> dict:
    return {
        "target": target,
        "members": members,
        "rate": 5.0,
        "p50_ms": 10.0,
        "p95_ms": 20.0,
        "p99_ms": 30.0,
        "ack_p95_ms": 5.0,
        "delivery_pct": 100.0,
        "deliveries_per_s": 5000.0,
    }


def test_a_later_run_replaces_only_its_own_targets_rows() -> None:
    """Rows of a target measured again replace the old ones; other targets and parts stay."""
    first = merge({}, {"fanout": [_row("floor", 1000), _row("local", 1000)]}, "cmd one")
    first["connects"] = [{"target": "local", "open": 2000, "command": "c", "measured": "m"}]
    second = merge(first, {"fanout": [_row("local", 2000)]}, "cmd two")

    fanout = {(r["target"], r["members"], r["command"]) for r in second["fanout"]}
    assert fanout == {("floor", 1000, "cmd one"), ("local", 2000, "cmd two")}
    assert second["connects"] == first["connects"]


def test_the_report_names_every_command_that_measured_it() -> None:
    """Each command behind a row is listed once in the report's header."""
    data = merge({}, {"fanout": [_row("floor", 100)]}, "python -m benchmarks.stage_scale fanout")
    data = merge(data, {"fanout": [_row("moto", 100)]}, "python -m benchmarks.stage_scale x")
    text = report(data)
    assert text.count("`python -m benchmarks.stage_scale fanout`") == 1
    assert "`python -m benchmarks.stage_scale x`" in text
    assert "| 100 | 5 | moto |" in text
