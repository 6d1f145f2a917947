"""REST ``GET /users?prefix=``: people by username prefix — ids and names only, page by page."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import encode_cursor, parse_page, parse_prefix


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    prefix = parse_prefix(request.query, required=True)
    page = parse_page(request.query)
    people, after = runtime.users().search(prefix, page.limit, page.cursor)
    return 200, {
        "users": [person.to_wire() for person in people],
        "nextCursor": encode_cursor(after) if after is not None else None,
    }
