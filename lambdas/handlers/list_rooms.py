"""REST ``GET /rooms``: the directory of rooms (by name, with member counts), page by page."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import encode_cursor, parse_page, parse_room_prefix


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    prefix = parse_room_prefix(request.query)
    page = parse_page(request.query)
    rooms, after = runtime.user_rooms().directory(prefix, page.limit, page.cursor)
    return 200, {
        "rooms": [{"roomId": room, "members": members} for room, members in rooms],
        "nextCursor": encode_cursor(after) if after is not None else None,
    }
