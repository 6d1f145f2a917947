"""Area lifecycle: disconnect, stale connections, reconnect (CONTRACT.md §3, Lifecycle)."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from conformance.client import Peer, unique_room
from conformance.plugin import MUST, check

WAIT_HINT = (
    "start the stage with a shorter limit (chatstack up {flag} 3) and pass the same {flag} 3 "
    "to chatstack conform"
)


@check("LIFE-001", MUST)
async def check_members_keep_receiving_after_one_disconnects(connect, rest):
    """§3 lifecycle: after a member closes, the others still receive the room's messages."""
    room = unique_room()
    users = await asyncio.gather(*(rest.new_user(f"u{i}") for i in range(3)))
    sender, leaver, member = [await connect(u) for u in users]
    for peer in (sender, leaver, member):
        await peer.join(room)
    await leaver.close()
    ack = await sender.request({"action": "sendMessage", "roomId": room, "message": "still on"})
    assert ack.get("type") == "ack", f"expected an ack after a member left, got {ack}"
    for peer in (sender, member):
        frame = await peer.message(lambda f: f.get("roomId") == room)
        assert frame["message"] == "still on", str(frame)


@check("LIFE-002", MUST)
async def check_closed_connections_never_block_delivery_to_the_rest(connect, rest):
    """§3 lifecycle: messages sent while closed connections are cleaned up reach every live member.

    Eight members close at once and a message follows at once, while their $disconnect may still
    be pending (as on AWS, where it runs asynchronously): the broadcaster then meets connections
    that are gone (410) among the live ones, and must remove them and go on.
    """
    room = unique_room()
    users = await asyncio.gather(*(rest.new_user(f"u{i}") for i in range(4)))
    live = [await connect(users[i % 4]) for i in range(8)]
    closing = [await connect(users[i % 4]) for i in range(8)]
    for peer in live + closing:
        await peer.join(room)
    await asyncio.gather(*(peer.close() for peer in closing))
    for n in range(3):
        ack = await live[0].request({"action": "sendMessage", "roomId": room, "message": f"m{n}"})
        assert ack.get("type") == "ack", f"expected an ack, got {ack}"
    for index, peer in enumerate(live):
        got = [(await peer.message(lambda f: f.get("roomId") == room))["message"] for _ in range(3)]
        assert sorted(got) == ["m0", "m1", "m2"], f"live member {index} received {got}"


@check("LIFE-003", MUST)
async def check_a_reconnected_client_works_again(target, rest, conformance_timeout):
    """§3 lifecycle: reconnecting with the same token works: the new connection joins and sends.

    Whether the rooms of the first connection carry over is the profile's business: v1 starts
    each connection in `general` only, v2 (profile chats, ROOM-001) in its user's rooms.
    """
    user = await rest.new_user("again")
    room = unique_room()
    first = await Peer.connect(target.ws_url, user.token, conformance_timeout)
    await first.join(room)
    await first.close()
    second = await Peer.connect(target.ws_url, user.token, conformance_timeout)
    try:
        await second.join(room)
        ack = await second.request({"action": "sendMessage", "roomId": room, "message": "back"})
        assert ack.get("type") == "ack", str(ack)
        frame = await second.message(lambda f: f.get("roomId") == room)
        assert frame["message"] == "back", str(frame)
    finally:
        await second.close()


@check("LIFE-004", MUST)
async def check_two_connections_of_one_user_both_receive(connect, user):
    """§3 lifecycle: one user's two connections are members in their own right."""
    room = unique_room()
    a, b = await connect(user), await connect(user)
    await a.join(room)
    await b.join(room)
    await a.request({"action": "sendMessage", "roomId": room, "message": "twice"})
    for peer in (a, b):
        assert (await peer.message(lambda f: f.get("roomId") == room))["message"] == "twice"


@check("LIFE-005", MUST)
async def check_an_idle_connection_is_closed_with_1001(stage_limits, conformance_timeout):
    """§3 lifecycle: a connection idle for the idle timeout (API Gateway: 10 minutes) is closed
    with code 1001."""
    idle = stage_limits.idle_timeout
    if idle is None:
        pytest.skip(
            "the stage's idle timeout is API Gateway's 10 minutes, too long to wait for in a "
            "run: " + WAIT_HINT.format(flag="--idle-timeout")
        )
    user = await stage_limits.rest.new_user("idle")
    peer = await Peer.connect(stage_limits.ws_url, user.token, conformance_timeout)
    try:
        code = await peer.closed(within=idle + conformance_timeout)
        assert code == 1001, f"expected close code 1001 after {idle} s idle, got {code}"
    finally:
        await peer.close()


@check("LIFE-006", MUST)
async def check_a_connection_is_closed_after_the_maximum_duration(
    stage_limits, conformance_timeout
):
    """§3 lifecycle: a connection open for the maximum duration (API Gateway: 2 hours) is
    closed with code 1001, however active it is."""
    longest = stage_limits.max_connection_duration
    if longest is None:
        pytest.skip(
            "the stage's maximum connection duration is API Gateway's 2 hours, too long to wait "
            "for in a run: " + WAIT_HINT.format(flag="--max-connection-duration")
        )
    # A frame well within the idle timeout keeps the connection active.
    every = max(0.2, min(stage_limits.idle_timeout or 60.0, longest) / 4)
    user = await stage_limits.rest.new_user("longest")
    peer = await Peer.connect(stage_limits.ws_url, user.token, conformance_timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + longest + conformance_timeout
    try:
        while loop.time() < deadline:
            try:
                await asyncio.wait_for(peer.socket.wait_closed(), every)
                break
            except TimeoutError:
                pass
            try:
                await peer.send({"action": "getMessages", "roomId": "general", "limit": 1})
            except websockets.ConnectionClosed:
                break
        code = await peer.closed(within=max(0.0, deadline - loop.time()))
        assert code == 1001, f"expected close code 1001 after {longest} s, got {code}"
    finally:
        await peer.close()
