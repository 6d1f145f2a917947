"""Area chats: direct and group chats, private to their participants (CONTRACT.md §7, §8)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from conformance.chat_steps import (
    direct_chat,
    eventually,
    expect_rest_error,
    group_chat,
    listed_chats,
    nothing_more_from,
    send_to_chat,
    unknown_chat_id,
    unknown_user_id,
)
from conformance.client import Peer
from conformance.plugin import MUST, check

CHAT_FIELDS = {
    "chatId",
    "type",
    "name",
    "peer",
    "createdAt",
    "lastActivity",
    "lastMessage",
    "lastSeq",
    "readSeq",
    "unreadCount",
}
MESSAGE_FIELDS = {
    "messageId",
    "chatId",
    "userId",
    "username",
    "message",
    "timestamp",
    "clientMessageId",
    "seq",
}


def ids(detail: dict) -> set[str]:
    return {p["userId"] for p in detail["participants"]}


async def users(rest, *names: str):
    return await asyncio.gather(*(rest.new_user(name) for name in names))


# -- creating -------------------------------------------------------------------------------------


@check("CHAT-001", MUST, profile="chats")
async def check_a_direct_chat_is_created_for_two_users(rest):
    """§8: POST /chats direct answers 201 with a chat of exactly the two users."""
    ada, bob = await users(rest, "ada", "bob")
    answer = await rest.as_user(ada, "POST", "/chats", {"type": "direct", "userId": bob.user_id})
    assert answer.status == 201, f"expected 201, got {answer}"
    chat = answer.body
    assert set(chat) >= CHAT_FIELDS | {"participants"}, f"missing fields: {sorted(chat)}"
    assert chat["type"] == "direct" and chat["name"] is None, str(chat)
    assert chat["peer"] == {"userId": bob.user_id, "username": "bob"}, str(chat)
    assert ids(chat) == {ada.user_id, bob.user_id}, str(chat)
    assert chat["unreadCount"] == 0 and chat["lastMessage"] is None, str(chat)


@check("CHAT-002", MUST, profile="chats")
async def check_a_direct_chat_is_one_per_pair_from_either_side(rest):
    """§8: creating a direct chat again, from either side, answers 200 and the same chat."""
    ada, bob = await users(rest, "ada", "bob")
    first = await direct_chat(rest, ada, bob)
    for me, other in ((ada, bob), (bob, ada)):
        again = await rest.as_user(
            me, "POST", "/chats", {"type": "direct", "userId": other.user_id}
        )
        assert again.status == 200, f"expected 200 (the existing chat), got {again}"
        assert again.body["chatId"] == first["chatId"], f"{again.body} vs {first}"
    seen = await rest.as_user(bob, "GET", f"/chats/{first['chatId']}")
    assert seen.body["peer"] == {"userId": ada.user_id, "username": "ada"}, str(seen)


@check("CHAT-003", MUST, profile="chats")
async def check_racing_direct_chat_creations_make_one_chat(rest, conformance_timeout):
    """§8: both users creating their direct chat at once, four times each, get one chat."""
    ada, bob = await users(rest, "ada", "bob")
    calls = [
        rest.as_user(me, "POST", "/chats", {"type": "direct", "userId": other.user_id})
        for me, other in [(ada, bob), (bob, ada)] * 4
    ]
    answers = await asyncio.gather(*calls)
    assert all(a.status in (200, 201) for a in answers), [str(a) for a in answers]
    chat_ids = {a.body["chatId"] for a in answers}
    assert len(chat_ids) == 1, f"{len(chat_ids)} different chats for one pair: {chat_ids}"
    created = [a for a in answers if a.status == 201]
    assert len(created) == 1, f"expected exactly one 201, got {len(created)}"
    (chat_id,) = chat_ids
    for who in (ada, bob):
        listing = await eventually(
            lambda who=who: listed_chats(rest, who),
            lambda body: any(c["chatId"] == chat_id for c in body["chats"]),
            "the chat is listed",
            conformance_timeout,
        )
        directs = [c for c in listing["chats"] if c["type"] == "direct"]
        assert [c["chatId"] for c in directs] == [chat_id], f"direct chats listed: {directs}"


@check("CHAT-004", MUST, profile="chats")
async def check_a_group_is_created_with_its_name_and_participants(rest):
    """§8: POST /chats group answers 201 with the name and the creator among the participants."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    body = {"type": "group", "name": "Lab ☕", "participants": [bob.user_id, cy.user_id]}
    answer = await rest.as_user(ada, "POST", "/chats", body)
    assert answer.status == 201, f"expected 201, got {answer}"
    chat = answer.body
    assert chat["type"] == "group" and chat["name"] == "Lab ☕" and chat["peer"] is None, str(chat)
    assert ids(chat) == {ada.user_id, bob.user_id, cy.user_id}, str(chat)
    names = [p["username"] for p in chat["participants"]]
    assert names == sorted(names, key=str.casefold), f"participants not by username: {names}"


@check("CHAT-005", MUST, profile="chats")
async def check_a_group_needs_another_user_and_at_most_the_limit(rest):
    """§8: a group of its creator alone is a VALIDATION_ERROR; over the limit (120 ids) a 409
    TOO_MANY_PARTICIPANTS."""
    (ada,) = await users(rest, "ada")
    alone = {"type": "group", "name": "me", "participants": [ada.user_id]}
    expect_rest_error(
        await rest.as_user(ada, "POST", "/chats", alone), 400, "VALIDATION_ERROR", "participants"
    )
    crowd = {"type": "group", "name": "x", "participants": [unknown_user_id() for _ in range(120)]}
    expect_rest_error(
        await rest.as_user(ada, "POST", "/chats", crowd), 409, "TOO_MANY_PARTICIPANTS"
    )


@check("CHAT-006", MUST, profile="chats")
async def check_a_direct_chat_with_yourself_is_refused(rest):
    """§8: a direct chat with yourself is a 400 VALIDATION_ERROR on userId."""
    (ada,) = await users(rest, "ada")
    answer = await rest.as_user(ada, "POST", "/chats", {"type": "direct", "userId": ada.user_id})
    expect_rest_error(answer, 400, "VALIDATION_ERROR", "userId")


@check("CHAT-007", MUST, profile="chats")
async def check_an_unknown_user_is_user_not_found(rest):
    """§8: a user id that names nobody is 404 USER_NOT_FOUND, naming the field, and no chat."""
    ada, bob = await users(rest, "ada", "bob")
    direct = {"type": "direct", "userId": unknown_user_id()}
    expect_rest_error(
        await rest.as_user(ada, "POST", "/chats", direct), 404, "USER_NOT_FOUND", "userId"
    )
    group = {"type": "group", "name": "g", "participants": [bob.user_id, unknown_user_id()]}
    expect_rest_error(
        await rest.as_user(ada, "POST", "/chats", group), 404, "USER_NOT_FOUND", "participants"
    )
    assert (await listed_chats(rest, bob))["chats"] == [], "a refused group was created"


@check("CHAT-008", MUST, profile="chats")
@pytest.mark.parametrize(
    "body, code, field",
    [
        ("not json", "INVALID_JSON", None),
        ("[1]", "INVALID_JSON", None),
        ({}, "VALIDATION_ERROR", "type"),
        ({"type": "triple"}, "VALIDATION_ERROR", "type"),
        ({"type": "direct"}, "VALIDATION_ERROR", "userId"),
        ({"type": "direct", "userId": 7}, "VALIDATION_ERROR", "userId"),
        ({"type": "direct", "userId": "has space"}, "VALIDATION_ERROR", "userId"),
        ({"type": "group", "participants": ["x"]}, "VALIDATION_ERROR", "name"),
        ({"type": "group", "name": "   ", "participants": ["x"]}, "VALIDATION_ERROR", "name"),
        ({"type": "group", "name": "n" * 65, "participants": ["x"]}, "VALIDATION_ERROR", "name"),
        ({"type": "group", "name": "g", "participants": "x"}, "VALIDATION_ERROR", "participants"),
        ({"type": "group", "name": "g", "participants": [1]}, "VALIDATION_ERROR", "participants"),
    ],
    ids=[
        "not-json",
        "array",
        "no-type",
        "bad-type",
        "no-user",
        "user-number",
        "user-malformed",
        "no-name",
        "blank-name",
        "long-name",
        "participants-string",
        "participants-number",
    ],
)
async def check_malformed_chat_bodies_get_a_clear_error(rest, user, body, code, field):
    """§8: a malformed POST /chats body gets INVALID_JSON or VALIDATION_ERROR naming the field."""
    raw = body if isinstance(body, str) else None
    answer = await rest.as_user(user, "POST", "/chats", None if raw else body, raw=raw)
    expect_rest_error(answer, 400, code, field)


V2_ROUTES = [
    ("POST", "/chats"),
    ("GET", "/chats"),
    ("GET", "/chats/some-chat"),
    ("GET", "/chats/some-chat/messages"),
    ("POST", "/chats/some-chat/participants"),
    ("POST", "/chats/some-chat/leave"),
    ("POST", "/chats/some-chat/read"),
    ("GET", "/users?prefix=a"),
    ("GET", "/rooms"),
    ("GET", "/me/rooms"),
]


@check("CHAT-009", MUST, profile="chats")
@pytest.mark.parametrize("method, path", V2_ROUTES, ids=[f"{m} {p}" for m, p in V2_ROUTES])
@pytest.mark.parametrize("token", [None, "not-a-jwt", "forged"], ids=["none", "garbage", "forged"])
async def check_v2_routes_need_a_bearer_token(rest, user, method, path, token):
    """§6: every v2 REST route answers 401 UNAUTHORIZED without a valid Bearer token."""
    if token == "forged":  # the user's claims under a signature the stage never made
        header, claims, _ = user.token.split(".")
        token = f"{header}.{claims}.{'A' * 43}"
    answer = await rest.as_user(token, method, path, {})
    expect_rest_error(answer, 401, "UNAUTHORIZED")


# -- privacy --------------------------------------------------------------------------------------


def same_error(answer, reference) -> None:
    """``answer`` is indistinguishable from ``reference`` (status, code and message)."""
    expect_rest_error(answer, 404, "CHAT_NOT_FOUND")
    mine, theirs = answer.body["error"], reference.body["error"]
    assert (answer.status, mine["code"], mine["message"]) == (
        reference.status,
        theirs["code"],
        theirs["message"],
    ), f"a chat one is not in answers differently from none: {answer} vs {reference}"


@check("CHAT-010", MUST, profile="chats")
async def check_a_non_participant_cannot_read_a_chat(rest, connect):
    """§8 privacy: to a non-participant a chat and its history answer as for no chat at all."""
    ada, bob, eve = await users(rest, "ada", "bob", "eve")
    chat = await direct_chat(rest, ada, bob)
    await send_to_chat(await connect(ada), chat["chatId"], "secret")
    for suffix in ("", "/messages"):
        reference = await rest.as_user(eve, "GET", f"/chats/{unknown_chat_id()}{suffix}")
        answer = await rest.as_user(eve, "GET", f"/chats/{chat['chatId']}{suffix}")
        same_error(answer, reference)
        assert "secret" not in answer.text, str(answer)
    eve_peer = await connect(eve)
    frame = {"action": "getMessages", "chatId": chat["chatId"]}
    reference = await eve_peer.request({**frame, "chatId": unknown_chat_id()})
    got = await eve_peer.request(frame)
    assert got.get("code") == "CHAT_NOT_FOUND", f"expected CHAT_NOT_FOUND, got {got}"
    assert got == reference, f"{got} vs {reference}"


@check("CHAT-011", MUST, profile="chats")
async def check_a_non_participant_cannot_send_to_a_chat(rest, connect):
    """§8 privacy: a non-participant's sendMessage gets CHAT_NOT_FOUND, as for no chat, and
    nothing is stored or delivered."""
    ada, bob, eve = await users(rest, "ada", "bob", "eve")
    chat = await direct_chat(rest, ada, bob)
    listener, intruder = await connect(ada), await connect(eve)
    frame = {"action": "sendMessage", "chatId": chat["chatId"], "message": "let me in"}
    reference = await intruder.request({**frame, "chatId": unknown_chat_id()})
    answer = await intruder.request(frame)
    assert answer.get("code") == "CHAT_NOT_FOUND", f"expected CHAT_NOT_FOUND, got {answer}"
    assert answer == reference, f"{answer} vs {reference}"
    await send_to_chat(listener, chat["chatId"], "only us")
    got = await listener.message(lambda f: f.get("chatId") == chat["chatId"])
    assert got["message"] == "only us", f"the refused message was delivered: {got}"
    history = await rest.as_user(ada, "GET", f"/chats/{chat['chatId']}/messages")
    texts = [m["message"] for m in history.body["messages"]]
    assert texts == ["only us"], f"expected only the participant's message, got {texts}"


@check("CHAT-012", MUST, profile="chats")
async def check_a_non_participant_cannot_learn_a_chat_exists(rest, conformance_timeout):
    """§8 privacy: a chat is never in an outsider's list; adding, leaving or reading it
    answers as for no chat."""
    ada, bob, eve = await users(rest, "ada", "bob", "eve")
    chat = await group_chat(rest, ada, [bob])
    await eventually(
        lambda: listed_chats(rest, ada),
        lambda body: any(c["chatId"] == chat["chatId"] for c in body["chats"]),
        "the creator's list shows the chat",
        conformance_timeout,
    )
    assert (await listed_chats(rest, eve))["chats"] == [], "an outsider's list shows chats"
    cy = await rest.new_user("cy")
    for method, suffix, body in (
        ("POST", "/participants", {"userIds": [cy.user_id]}),
        ("POST", "/leave", None),
        ("POST", "/read", {"seq": 1}),
    ):
        reference = await rest.as_user(eve, method, f"/chats/{unknown_chat_id()}{suffix}", body)
        same_error(
            await rest.as_user(eve, method, f"/chats/{chat['chatId']}{suffix}", body), reference
        )
    detail = await rest.as_user(ada, "GET", f"/chats/{chat['chatId']}")
    assert cy.user_id not in ids(detail.body), "an outsider added someone"


@check("CHAT-013", MUST, profile="chats")
async def check_user_search_returns_ids_and_names_only(rest):
    """§7: GET /users finds users by username prefix in any letter case, with userId and
    username only — never an e-mail address."""
    tag = uuid.uuid4().hex[:10]
    ada, other = await users(rest, f"Srch{tag}Ada", f"srch{tag}bob")
    answer = await rest.as_user(other, "GET", "/users", params={"prefix": f"SRCH{tag}"})
    assert answer.status == 200, f"expected 200, got {answer}"
    found = answer.body["users"]
    assert {u["userId"] for u in found} == {ada.user_id, other.user_id}, str(found)
    for person in found:
        assert set(person) == {"userId", "username"}, f"search returned more: {person}"
    for email in (ada.email, other.email):
        assert email.lower() not in answer.text.lower(), "an e-mail address is in the answer"
    narrower = await rest.as_user(other, "GET", "/users", params={"prefix": f"srch{tag}a"})
    assert [u["userId"] for u in narrower.body["users"]] == [ada.user_id], str(narrower)


@check("CHAT-014", MUST, profile="chats")
async def check_user_search_is_paged_and_bounded(rest):
    """§7: user search pages with nextCursor (each user once) and refuses an unbounded query."""
    tag = uuid.uuid4().hex[:10]
    people = await users(rest, f"pg{tag}a", f"pg{tag}b", f"pg{tag}c")
    seen, cursor = [], None
    for _ in range(4):
        params = {"prefix": f"pg{tag}", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await rest.as_user(people[0], "GET", "/users", params=params)
        assert page.status == 200 and len(page.body["users"]) <= 2, str(page)
        seen += [u["userId"] for u in page.body["users"]]
        cursor = page.body["nextCursor"]
        if cursor is None:
            break
    assert seen == [p.user_id for p in people], f"expected each user once by name, got {seen}"
    for params, field in (({}, "prefix"), ({"prefix": "a", "limit": 51}, "limit")):
        answer = await rest.as_user(people[0], "GET", "/users", params=params)
        expect_rest_error(answer, 400, "VALIDATION_ERROR", field)


# -- delivery -------------------------------------------------------------------------------------


@check("CHAT-015", MUST, profile="chats")
async def check_every_connection_of_every_participant_receives_without_joining(rest, connect):
    """§8: every open connection of every participant, the sender's included, receives the
    message once, with chatId and seq, without any join."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    chat = await group_chat(rest, ada, [bob, cy])
    peers = [await connect(who) for who in (ada, ada, bob, bob, cy)]
    ack = await send_to_chat(peers[0], chat["chatId"], "hello all", clientMessageId="c-1")
    assert ack["seq"] == 1 and ack["duplicate"] is False, str(ack)
    for peer in peers:
        frame = await peer.message(lambda f: f.get("chatId") == chat["chatId"])
        assert set(frame) >= MESSAGE_FIELDS | {"type"}, f"missing fields: {sorted(frame)}"
        assert frame["messageId"] == ack["messageId"] and frame["seq"] == 1, str(frame)
        assert frame["userId"] == ada.user_id and frame["message"] == "hello all", str(frame)
    await asyncio.gather(*(nothing_more_from(p, chat["chatId"]) for p in peers))  # once, not 2x


@check("CHAT-016", MUST, profile="chats")
async def check_other_users_connections_receive_nothing_of_a_chat(rest, connect):
    """§8: no connection of a user outside the chat receives its messages."""
    ada, bob, eve = await users(rest, "ada", "bob", "eve")
    chat = await direct_chat(rest, ada, bob)
    sender, receiver, outsider = await connect(ada), await connect(bob), await connect(eve)
    await send_to_chat(sender, chat["chatId"], "between us")
    await receiver.message(lambda f: f.get("chatId") == chat["chatId"])
    await nothing_more_from(outsider, chat["chatId"])


@check("CHAT-017", MUST, profile="chats")
async def check_new_participants_are_told_on_every_connection(rest, connect):
    """§8: creating a chat sends chatAdded with the chat to every open connection of each
    participant, the creator's included."""
    ada, bob = await users(rest, "ada", "bob")
    peers = [await connect(who) for who in (ada, bob, bob)]
    chat = await group_chat(rest, ada, [bob], name="told")
    for peer in peers:
        notice = await peer.notice(lambda f: f.get("type") == "chatAdded")
        got = notice.get("chat", {})
        assert got.get("chatId") == chat["chatId"] and got.get("name") == "told", str(notice)
        assert set(got) >= CHAT_FIELDS, f"chatAdded carries a chat object: {sorted(got)}"


@check("CHAT-018", MUST, profile="chats")
async def check_a_participant_added_later_receives_from_then_on_and_reads_history(rest, connect):
    """§8: a user added to a group is told, receives what is sent after, and pages the
    history from its start."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    chat = await group_chat(rest, ada, [bob])
    sender, newcomer = await connect(ada), await connect(cy)
    before = await send_to_chat(sender, chat["chatId"], "before cy")
    # Once the sender has it, its fan-out is over: cy, not yet in, was not among its recipients.
    await sender.message(lambda f: f.get("messageId") == before["messageId"])
    await nothing_more_from(newcomer, chat["chatId"])
    added = await rest.as_user(
        bob, "POST", f"/chats/{chat['chatId']}/participants", {"userIds": [cy.user_id]}
    )
    assert added.status == 200 and cy.user_id in ids(added.body), f"expected 200: {added}"
    notice = await newcomer.notice(lambda f: f.get("type") == "chatAdded")
    assert notice["chat"]["chatId"] == chat["chatId"], str(notice)
    after = await send_to_chat(sender, chat["chatId"], "welcome cy")
    got = await newcomer.message(lambda f: f.get("chatId") == chat["chatId"])
    assert got["messageId"] == after["messageId"], f"expected the message sent after: {got}"
    history = await rest.as_user(cy, "GET", f"/chats/{chat['chatId']}/messages")
    assert history.status == 200, str(history)
    assert [m["messageId"] for m in history.body["messages"]] == [
        before["messageId"],
        after["messageId"],
    ], str(history)


@check("CHAT-019", MUST, profile="chats")
async def check_a_participant_who_left_stops_receiving_at_once(rest, connect):
    """§8: one who leaves is told (chatRemoved), receives nothing sent after the leave's
    answer, and can neither send to nor read the chat."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    chat = await group_chat(rest, ada, [bob, cy])
    sender, leaver, stayer = await connect(ada), await connect(cy), await connect(bob)
    left = await rest.as_user(cy, "POST", f"/chats/{chat['chatId']}/leave")
    assert left.status == 200 and left.body == {"chatId": chat["chatId"], "left": True}, str(left)
    notice = await leaver.notice(lambda f: f.get("type") == "chatRemoved")
    assert notice == {"type": "chatRemoved", "chatId": chat["chatId"]}, str(notice)
    await send_to_chat(sender, chat["chatId"], "after cy left")
    await stayer.message(lambda f: f.get("chatId") == chat["chatId"])
    await nothing_more_from(leaver, chat["chatId"])
    refused = await leaver.request(
        {"action": "sendMessage", "chatId": chat["chatId"], "message": "still here?"}
    )
    assert refused.get("code") == "CHAT_NOT_FOUND", f"expected CHAT_NOT_FOUND, got {refused}"
    expect_rest_error(
        await rest.as_user(cy, "GET", f"/chats/{chat['chatId']}/messages"), 404, "CHAT_NOT_FOUND"
    )
    remaining = await rest.as_user(ada, "GET", f"/chats/{chat['chatId']}")
    assert ids(remaining.body) == {ada.user_id, bob.user_id}, str(remaining)


@check("CHAT-020", MUST, profile="chats")
async def check_a_direct_chat_cannot_grow_or_be_left(rest):
    """§8: adding to or leaving a direct chat is 409 NOT_A_GROUP."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    chat = await direct_chat(rest, ada, bob)
    grow = await rest.as_user(
        ada, "POST", f"/chats/{chat['chatId']}/participants", {"userIds": [cy.user_id]}
    )
    expect_rest_error(grow, 409, "NOT_A_GROUP")
    expect_rest_error(
        await rest.as_user(bob, "POST", f"/chats/{chat['chatId']}/leave"), 409, "NOT_A_GROUP"
    )
    assert ids((await rest.as_user(ada, "GET", f"/chats/{chat['chatId']}")).body) == {
        ada.user_id,
        bob.user_id,
    }


@check("CHAT-021", MUST, profile="chats")
async def check_adding_beyond_the_limit_is_refused_and_adds_nobody(rest):
    """§8: adding more participants than the limit (120 ids) is 409 TOO_MANY_PARTICIPANTS."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await group_chat(rest, ada, [bob])
    crowd = {"userIds": [unknown_user_id() for _ in range(120)]}
    answer = await rest.as_user(ada, "POST", f"/chats/{chat['chatId']}/participants", crowd)
    expect_rest_error(answer, 409, "TOO_MANY_PARTICIPANTS")
    detail = await rest.as_user(ada, "GET", f"/chats/{chat['chatId']}")
    assert ids(detail.body) == {ada.user_id, bob.user_id}, str(detail)


# -- lists, unread, history -----------------------------------------------------------------------


@check("CHAT-022", MUST, profile="chats")
async def check_the_chat_list_is_most_recent_activity_first(rest, connect, conformance_timeout):
    """§8: GET /chats lists one's chats by last activity, newest first, with the last message."""
    ada, bob, cy = await users(rest, "ada", "bob", "cy")
    first = await direct_chat(rest, ada, bob)
    second = await direct_chat(rest, ada, cy)
    sender = await connect(bob)
    ack = await send_to_chat(sender, first["chatId"], "bump " + "x" * 300)
    listing = await eventually(
        lambda: listed_chats(rest, ada),
        lambda body: (
            [c["chatId"] for c in body["chats"]] == [first["chatId"], second["chatId"]]
            and body["chats"][0]["lastMessage"] is not None
        ),
        "the chat with the newest message is first",
        conformance_timeout,
    )
    last = listing["chats"][0]["lastMessage"]
    assert last["messageId"] == ack["messageId"] and last["seq"] == ack["seq"], str(last)
    assert last["preview"] == ("bump " + "x" * 300)[:200], "preview: the first 200 characters"
    assert last["userId"] == bob.user_id and last["username"] == "bob", str(last)


@check("CHAT-023", MUST, profile="chats")
async def check_unread_counts_follow_messages_and_the_read_marker(
    rest, connect, conformance_timeout
):
    """§8: others' messages are unread, one's own are not; POST read moves the marker forward
    only."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    ada_peer, bob_peer = await connect(ada), await connect(bob)
    for n in range(3):
        await send_to_chat(bob_peer, chat["chatId"], f"m{n}")
    last = await send_to_chat(ada_peer, chat["chatId"], "mine")

    def entry(body):
        return next(c for c in body["chats"] if c["chatId"] == chat["chatId"])

    for who, unread in ((ada, 0), (bob, 1)):
        await eventually(
            lambda who=who: listed_chats(rest, who),
            lambda body, unread=unread: (
                any(c["chatId"] == chat["chatId"] for c in body["chats"])
                and entry(body)["lastSeq"] == last["seq"]
                and entry(body)["unreadCount"] == unread
            ),
            f"{who.username} has {unread} unread",
            conformance_timeout,
        )
    read = await rest.as_user(bob, "POST", f"/chats/{chat['chatId']}/read", {"seq": last["seq"]})
    assert read.status == 200 and read.body["unreadCount"] == 0, str(read)
    back = await rest.as_user(bob, "POST", f"/chats/{chat['chatId']}/read", {"seq": 1})
    assert back.body["readSeq"] == last["seq"], f"the read marker moved back: {back}"
    expect_rest_error(
        await rest.as_user(bob, "POST", f"/chats/{chat['chatId']}/read", {"seq": -1}),
        400,
        "VALIDATION_ERROR",
        "seq",
    )


@check("CHAT-024", MUST, profile="chats")
async def check_chat_history_pages_like_get_messages(rest, connect):
    """§8: a chat's history pages oldest first with nextBefore (11 messages, limit 4: 4, 4, 3),
    over REST and over getMessages with chatId alike."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    peer = await connect(ada)
    sent = [(await send_to_chat(peer, chat["chatId"], f"m{i}"))["messageId"] for i in range(11)]
    pages, before = [], None
    for _ in range(6):
        params = {"limit": 4, **({"before": before} if before else {})}
        answer = await rest.as_user(bob, "GET", f"/chats/{chat['chatId']}/messages", params=params)
        assert answer.status == 200 and answer.body["chatId"] == chat["chatId"], str(answer)
        for message in answer.body["messages"]:
            assert set(message) >= MESSAGE_FIELDS, f"missing fields: {sorted(message)}"
        pages.append([m["messageId"] for m in answer.body["messages"]])
        before = answer.body["nextBefore"]
        if before is None:
            break
    assert [len(p) for p in pages] == [4, 4, 3], f"expected pages of 4, 4, 3; got {pages}"
    assert [i for p in reversed(pages) for i in p] == sent, "paging repeated or skipped"
    frame = await peer.request({"action": "getMessages", "chatId": chat["chatId"], "limit": 4})
    assert frame.get("type") == "messages" and frame.get("chatId") == chat["chatId"], str(frame)
    assert [m["messageId"] for m in frame["messages"]] == sent[-4:], str(frame)
    bad = await rest.as_user(bob, "GET", f"/chats/{chat['chatId']}/messages", params={"limit": 0})
    expect_rest_error(bad, 400, "VALIDATION_ERROR", "limit")


@check("CHAT-025", MUST, profile="chats")
async def check_the_chat_list_is_paged_with_a_cursor(rest, conformance_timeout):
    """§8: GET /chats pages with nextCursor, each chat once; a cursor it never gave is refused."""
    ada, *others = await users(rest, "ada", "b", "c", "d")
    made = [(await direct_chat(rest, ada, other))["chatId"] for other in others]
    await eventually(
        lambda: listed_chats(rest, ada),
        lambda body: len(body["chats"]) == 3,
        "three chats are listed",
        conformance_timeout,
    )
    seen, cursor = [], None
    for _ in range(4):
        body = await listed_chats(rest, ada, limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(body["chats"]) <= 2, str(body)
        seen += [c["chatId"] for c in body["chats"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made)), f"expected each chat once, newest first; got {seen}"
    bad = await rest.as_user(ada, "GET", "/chats", params={"cursor": "%%%"})
    expect_rest_error(bad, 400, "VALIDATION_ERROR", "cursor")


@check("CHAT-026", MUST, profile="chats")
async def check_a_repeated_client_message_id_is_delivered_once(rest, connect):
    """§8: a repeated clientMessageId in a chat is acked as a duplicate (same seq), sent once."""
    ada, bob = await users(rest, "ada", "bob")
    chat = await direct_chat(rest, ada, bob)
    sender, receiver = await connect(ada), await connect(bob)
    first = await send_to_chat(sender, chat["chatId"], "once", clientMessageId="dup-1")
    again = await send_to_chat(sender, chat["chatId"], "once", clientMessageId="dup-1")
    assert again["duplicate"] is True and again["messageId"] == first["messageId"], str(again)
    assert again["seq"] == first["seq"], f"a repeat took a new seq: {first} vs {again}"
    await receiver.message(lambda f: f.get("chatId") == chat["chatId"])
    following = await send_to_chat(sender, chat["chatId"], "after")
    got = await receiver.message(lambda f: f.get("chatId") == chat["chatId"])
    assert got["messageId"] == following["messageId"], f"the repeat was delivered again: {got}"
    assert following["seq"] == first["seq"] + 1, f"seq skipped: {first} then {following}"


@check("CHAT-027", MUST, profile="chats")
@pytest.mark.parametrize(
    "extra, field",
    [
        ({"roomId": "general", "chatId": "x"}, "chatId"),
        ({"chatId": "has space"}, "chatId"),
        ({"chatId": "c" * 65}, "chatId"),
        ({"chatId": 5}, "chatId"),
    ],
    ids=["both", "space", "long", "number"],
)
async def check_frames_naming_a_bad_chat_get_a_validation_error(peer: Peer, extra, field):
    """§8: a frame naming both roomId and chatId, or a malformed chatId, gets VALIDATION_ERROR."""
    for action in ("sendMessage", "getMessages"):
        answer = await peer.request({"action": action, "message": "x", **extra})
        assert answer.get("type") == "error" and answer.get("code") == "VALIDATION_ERROR", (
            f"{action}: expected VALIDATION_ERROR, got {answer}"
        )
        assert answer.get("field") == field, f"{action}: expected field {field}, got {answer}"
