"""REST path templates of the local stage (reference_stack/local/rest_routes.py)."""

from __future__ import annotations

from reference_stack.definition import load
from reference_stack.local.rest_routes import RestRoutes

ROUTES = RestRoutes(
    [
        {"method": "GET", "path": "/chats", "function": "list"},
        {"method": "POST", "path": "/chats", "function": "create"},
        {"method": "GET", "path": "/chats/{chatId}", "function": "get"},
        {"method": "GET", "path": "/chats/{chatId}/messages", "function": "history"},
        {"method": "GET", "path": "/me/rooms", "function": "mine"},
        {"method": "GET", "path": "/me/{other}", "function": "other"},
    ]
)


def test_a_static_path_matches_its_resource_with_every_method():
    """/chats is one resource with GET and POST, and no parameters."""
    found = ROUTES.match("/chats")
    assert found is not None and found.template == "/chats" and found.parameters == {}
    assert found.functions == {"GET": "list", "POST": "create"}


def test_a_parameter_takes_one_decoded_segment():
    """{chatId} matches one segment, percent-decoded; deeper paths match deeper templates."""
    found = ROUTES.match("/chats/g-1%2Bx")
    assert found is not None and found.template == "/chats/{chatId}"
    assert found.parameters == {"chatId": "g-1+x"}
    deeper = ROUTES.match("/chats/abc/messages")
    assert deeper is not None and deeper.parameters == {"chatId": "abc"}


def test_a_static_segment_wins_over_a_parameter():
    """/me/rooms is its own resource, not /me/{other} with other=rooms."""
    assert ROUTES.match("/me/rooms").functions == {"GET": "mine"}
    assert ROUTES.match("/me/else").parameters == {"other": "else"}


def test_paths_without_a_resource_match_nothing():
    """Unknown, too deep, too shallow or empty-segment paths have no resource."""
    for path in ("/nope", "/chats/a/b/c", "/", "/chats//messages", "/me"):
        assert ROUTES.match(path) is None, path


def test_every_route_of_the_stack_matches_itself():
    """Each stack.json route's path, parameters filled, finds its own function."""
    for route in load().rest_routes:
        path = route["path"].replace("{chatId}", "some-chat")
        found = ROUTES.__class__(load().rest_routes).match(path)
        assert found is not None and found.functions[route["method"]] == route["function"]
