"""A user's connections and their rooms (contract v2: rooms belong to the user).

- A new connection starts joined to its user's rooms: it reads them, stores itself joined to
  them, enters its user's set of open connections, then reads the rooms again and catches up
  with any change in between — a join or leave on another device either finds this connection
  (stored) in the set, or happened before the second read: never neither.
- ``joinRoom`` / ``leaveRoom`` change the user's rooms, this connection's membership, and that of
  every other open connection of the user, which is told with a ``roomJoined`` / ``roomLeft``
  frame.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from lambdas.contract.errors import TooManyRooms
from lambdas.contract.frames import room_joined_frame, room_left_frame
from lambdas.domain.connections import ConnectionStore
from lambdas.domain.fanout import Poster, fan_out_to_users
from lambdas.domain.identity import Identity
from lambdas.domain.rooms import UserRooms

__all__ = ["join_room", "leave_room", "open_connection"]

log = logging.getLogger("chatstack.rooms")


def open_connection(
    connections: ConnectionStore,
    rooms: UserRooms,
    connection_id: str,
    who: Identity,
    now: float | None = None,
    on_online: Callable[[], object] | None = None,
) -> set[str]:
    """Store a new connection joined to its user's rooms; returns them. ``on_online`` is called
    when it is the user's only open connection (the user came online)."""
    first = rooms.rooms_of(who.user_id)
    connections.add(connection_id, who, now, first)
    if connections.register(who.user_id, connection_id) and on_online is not None:
        on_online()
    now_rooms = rooms.rooms_of(who.user_id)
    for room in sorted(now_rooms - first):
        connections.join(connection_id, room)
    for room in sorted(first - now_rooms):
        connections.leave(connection_id, room)
    return now_rooms


def _without(connections: dict[str, str], connection_id: str) -> dict[str, str]:
    return {c: user for c, user in connections.items() if c != connection_id}


def join_room(
    connections: ConnectionStore,
    rooms: UserRooms,
    poster: Poster | None,
    connection_id: str,
    room_id: str,
) -> None:
    """The user of ``connection_id`` joins ``room_id``, on every open connection.

    Raises:
        TooManyRooms: the user is in the maximum number of rooms.
        LookupError: the connection is not stored (it was closed meanwhile).
    """
    who = connections.identity(connection_id)
    rooms.join(who.user_id, room_id)
    connections.join(connection_id, room_id)
    joined: dict[str, str] = {}
    others = _without(connections.connections_of([who.user_id]), connection_id)
    for other, user in others.items():
        try:
            connections.join(other, room_id)
        except (LookupError, TooManyRooms):  # closed meanwhile; or its record is full
            continue
        joined[other] = user
    if joined and poster is not None:
        fan_out_to_users(room_joined_frame(room_id), joined, poster, connections.forget)


def leave_room(
    connections: ConnectionStore,
    rooms: UserRooms,
    poster: Poster | None,
    connection_id: str,
    room_id: str,
) -> None:
    """The user of ``connection_id`` leaves ``room_id``, on every open connection.

    Raises:
        LookupError: the connection is not stored (it was closed meanwhile).
    """
    who = connections.identity(connection_id)
    rooms.leave(who.user_id, room_id)
    connections.leave(connection_id, room_id)
    others = _without(connections.connections_of([who.user_id]), connection_id)
    for other in others:
        connections.leave(other, room_id)
    if others and poster is not None:
        fan_out_to_users(room_left_frame(room_id), others, poster, connections.forget)
