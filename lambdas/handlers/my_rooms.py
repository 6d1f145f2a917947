"""REST ``GET /me/rooms``: the caller's rooms (every new connection starts joined to them)."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    store = runtime.user_rooms()
    rooms = sorted(store.rooms_of(request.identity.user_id), key=lambda r: (r.lower(), r))
    counts = store.counts(rooms)
    return 200, {"rooms": [{"roomId": room, "members": counts[room]} for room in rooms]}
