"""S3's CORS, evaluated from a bucket's ``CORSConfiguration`` rules. Pure code.

The first rule whose ``AllowedOrigins`` match the ``Origin`` (a ``*`` in a pattern matches any
characters) and whose ``AllowedMethods`` hold the method — and, for a preflight, whose
``AllowedHeaders`` match every requested header — decides; none matching: a preflight is
refused (403) and an actual request gets no CORS headers, so the browser keeps the answer from
the page.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["actual_headers", "preflight_headers"]

Rule = Mapping[str, Any]


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower().replace("[", "[[]"))


def _rule(rules: Sequence[Rule], origin: str, method: str, headers: Sequence[str]) -> Rule | None:
    for rule in rules:
        if not any(_matches(o, origin) for o in rule.get("AllowedOrigins", [])):
            continue
        if method.upper() not in [m.upper() for m in rule.get("AllowedMethods", [])]:
            continue
        allowed = rule.get("AllowedHeaders", [])
        if all(any(_matches(a, h) for a in allowed) for h in headers):
            return rule
    return None


def _allow_origin(rule: Rule, origin: str) -> str:
    return "*" if "*" in rule.get("AllowedOrigins", []) else origin


def preflight_headers(
    rules: Sequence[Rule], origin: str, method: str, requested_headers: str | None
) -> dict[str, str] | None:
    """The headers of an allowed preflight (``OPTIONS``), or None: refused."""
    headers = [h.strip().lower() for h in (requested_headers or "").split(",") if h.strip()]
    rule = _rule(rules, origin, method, headers)
    if rule is None:
        return None
    answer = {
        "Access-Control-Allow-Origin": _allow_origin(rule, origin),
        "Access-Control-Allow-Methods": ", ".join(rule.get("AllowedMethods", [])),
        "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    }
    if headers:
        answer["Access-Control-Allow-Headers"] = ", ".join(headers)
    if rule.get("ExposeHeaders"):
        answer["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeaders"])
    if rule.get("MaxAgeSeconds") is not None:
        answer["Access-Control-Max-Age"] = str(rule["MaxAgeSeconds"])
    return answer


def actual_headers(rules: Sequence[Rule], origin: str, method: str) -> dict[str, str]:
    """The CORS headers of an actual (non-preflight) answer to ``origin``; empty: none allowed."""
    rule = _rule(rules, origin, method, [])
    if rule is None:
        return {}
    answer = {
        "Access-Control-Allow-Origin": _allow_origin(rule, origin),
        "Access-Control-Allow-Methods": ", ".join(rule.get("AllowedMethods", [])),
        "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    }
    if rule.get("ExposeHeaders"):
        answer["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeaders"])
    return answer
