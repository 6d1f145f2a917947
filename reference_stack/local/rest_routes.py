"""Matching REST paths to the routes of the stack definition, as API Gateway's resources do.

A route's path is a template: ``/chats/{chatId}/messages``. A ``{name}`` segment matches any one
non-empty segment and is passed to the function in ``pathParameters``; where a static segment
and a parameter both match, the static one wins (``/me/rooms`` before ``/me/{x}``). Pure code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["Match", "RestRoutes"]


@dataclass(frozen=True)
class Match:
    template: str  # the resource, e.g. "/chats/{chatId}"
    parameters: dict[str, str]
    functions: dict[str, str]  # method → function, of every route on this resource


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}") and len(segment) > 2


class RestRoutes:
    """The resources of a REST API and the methods each one routes to a function."""

    def __init__(self, routes: Iterable[dict[str, str]]) -> None:
        self._resources: dict[str, dict[str, str]] = {}
        for route in routes:
            self._resources.setdefault(route["path"], {})[route["method"]] = route["function"]

    def match(self, path: str) -> Match | None:
        """The resource ``path`` (as requested, percent-encoded) names, or None."""
        requested = _segments(path)
        best: tuple[int, Match] | None = None
        for template, functions in self._resources.items():
            parts = _segments(template)
            if len(parts) != len(requested):
                continue
            parameters: dict[str, str] = {}
            static = 0
            for part, segment in zip(parts, requested, strict=True):
                if _is_parameter(part):
                    if not segment:
                        break
                    parameters[part[1:-1]] = unquote(segment)
                elif part == segment:
                    static += 1
                else:
                    break
            else:
                if best is None or static > best[0]:
                    best = (static, Match(template, parameters, functions))
        return best[1] if best else None
