"""REST ``GET /chats``: the caller's chats, most recent activity first, page by page."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import encode_cursor, inbox_cursor, parse_page


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    page = parse_page(request.query)
    after = inbox_cursor(page)
    chats, after = runtime.chats().list_chats(request.identity.user_id, page.limit, after)
    return 200, {
        "chats": [chat.to_wire() for chat in chats],
        "nextCursor": encode_cursor(after) if after is not None else None,
    }
