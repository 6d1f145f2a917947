"""Lambda event filtering for stream records (``FilterCriteria`` patterns). Pure code.

A pattern is an object whose leaves are lists of what a value may be: a literal (string,
number, boolean, null), ``{"exists": true|false}`` or ``{"prefix": "…"}``; a record passes when
every key of the pattern matches. A mapping passes a record that any of its patterns matches.
Other operators are refused when the stage starts, rather than ignored.
"""

from __future__ import annotations

from typing import Any

__all__ = ["accepts", "check_pattern"]

_MISSING = object()
OPERATORS = {"exists", "prefix"}


def check_pattern(pattern: Any, where: str = "pattern") -> None:
    """Raise ValueError for what this filter does not implement."""
    if isinstance(pattern, dict):
        for key, value in pattern.items():
            check_pattern(value, f"{where}.{key}")
        return
    if not isinstance(pattern, list) or not pattern:
        raise ValueError(f"{where}: a filter leaf must be a non-empty list")
    for option in pattern:
        if isinstance(option, dict) and (len(option) != 1 or set(option) - OPERATORS):
            raise ValueError(f"{where}: unsupported filter operator {option}")


def _leaf(options: list[Any], value: Any) -> bool:
    for option in options:
        if isinstance(option, dict):
            if "exists" in option:
                if option["exists"] == (value is not _MISSING):
                    return True
            elif (
                "prefix" in option and isinstance(value, str) and value.startswith(option["prefix"])
            ):
                return True
        elif value is not _MISSING and not isinstance(value, (dict, list)) and option == value:
            return True
    return False


def _matches(pattern: Any, value: Any) -> bool:
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return all(_matches(p, _MISSING) for p in pattern.values())
        return all(_matches(p, value.get(key, _MISSING)) for key, p in pattern.items())
    return _leaf(pattern, value)


def accepts(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether ``record`` passes: no patterns, or one that matches."""
    return not patterns or any(_matches(p, record) for p in patterns)
