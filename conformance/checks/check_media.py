"""Area media (profile ``media``): uploads through presigned URLs the storage itself enforces,
attachments checked before a message is stored, downloads for members only (MEDIA.md)."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from conformance.chat_steps import direct_chat
from conformance.checks.check_routes import expect_error
from conformance.client import Peer, unique_room
from conformance.media_steps import (
    PNG,
    attach,
    download_url,
    fetch,
    grant,
    seconds_until,
    upload,
    uploaded,
)
from conformance.plugin import MUST, check, declared_profiles

# A URL is a bearer credential: MEDIA.md lets one live 15 minutes at most.
MAX_URL_SECONDS = 900
PDF = b"%PDF-1.4\n% chatstack conformance\n%%EOF\n"
OK = (200, 201, 204)


def is_refused(status: int) -> bool:
    return 400 <= status < 500


async def member_pair(connect, rest, room: str) -> tuple[Peer, Peer, object, object]:
    """Two users, each with a connection that joined ``room``."""
    alice, bob = await rest.new_user("alice"), await rest.new_user("bob")
    a, b = await connect(alice), await connect(bob)
    await a.join(room)
    await b.join(room)
    return a, b, alice, bob


@check("MEDIA-001", MUST, "media")
async def check_upload_url_needs_a_valid_token(rest):
    """§1: POST /upload-url without a token, or with a bad one, is 401 UNAUTHORIZED."""
    body = {"contentType": "image/png", "size": 10, "name": "a.png"}
    for token in (None, "not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"):
        answer = await rest.as_user(token, "POST", "/upload-url", body)
        assert answer.status == 401, f"token {token!r}: expected 401, got {answer}"
        assert isinstance(answer.body, dict), f"expected a JSON error, got {answer}"
        assert answer.body.get("error", {}).get("code") == "UNAUTHORIZED", str(answer)


@check("MEDIA-002", MUST, "media")
async def check_upload_url_grants_one_key_of_the_caller_for_minutes(rest, user):
    """§1: the grant is a POST of fields to a URL, for one key under uploads/{userId}/, valid
    for at most 15 minutes; two grants name two keys."""
    first = await grant(rest, user, "image/png", len(PNG), "pixel.png")
    second = await grant(rest, user, "image/png", len(PNG), "pixel.png")
    assert first.key.startswith(f"uploads/{user.user_id}/"), f"key {first.key!r}"
    assert first.key != second.key, "two grants named the same key"
    assert first.raw.get("method") == "POST", f"expected method POST: {first.raw}"
    assert urlsplit(first.url).scheme in ("http", "https"), f"url {first.url!r}"
    assert first.fields and all(isinstance(v, str) for v in first.fields.values()), first.raw
    left = seconds_until(first.expires_at)
    assert 0 < left <= MAX_URL_SECONDS + 5, f"expiresAt is {left:.0f} s away (at most 900)"


@check("MEDIA-003", MUST, "media")
@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (
            {"contentType": "text/html", "size": 10, "name": "a.html"},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "contentType",
        ),
        (
            {"contentType": "image/svg+xml", "size": 10, "name": "a.svg"},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "contentType",
        ),
        (
            {"contentType": "image/png", "size": 10 * 1024 * 1024 + 1, "name": "a.png"},
            413,
            "FILE_TOO_LARGE",
            "size",
        ),
        ({"contentType": "image/png", "size": 0, "name": "a.png"}, 400, "VALIDATION_ERROR", "size"),
        (
            {"contentType": "image/png", "size": "10", "name": "a.png"},
            400,
            "VALIDATION_ERROR",
            "size",
        ),
        ({"contentType": "image/png", "size": 10}, 400, "VALIDATION_ERROR", "name"),
    ],
    ids=["html", "svg", "over-10-MiB", "empty", "size-string", "no-name"],
)
async def check_upload_url_refuses_what_the_policy_does_not_allow(
    rest, user, body, status, code, field
):
    """§1: a type outside the allow-list is 415, a size over 10 MiB 413, bad fields 400."""
    answer = await rest.as_user(user, "POST", "/upload-url", body)
    assert answer.status == status, f"expected {status}, got {answer}"
    error = answer.body.get("error", {}) if isinstance(answer.body, dict) else {}
    assert (error.get("code"), error.get("field")) == (code, field), str(answer)


@check("MEDIA-004", MUST, "media")
async def check_an_attachment_goes_round_trip(rest, http, connect):
    """§2-§3: an upload attached to a message reaches members with the message and in
    history, and a member's download URL returns the same bytes."""
    room = unique_room()
    a, b, alice, _ = await member_pair(connect, rest, room)
    data = PNG + uuid.uuid4().bytes  # trailing bytes: the exact upload, not any PNG
    declared = await uploaded(rest, http, alice, data, "image/png", "pixel.png")
    ack = await attach(a, room, [declared], "look")
    assert ack.get("type") == "ack" and ack.get("action") == "sendMessage", str(ack)
    seen = await b.message(lambda f: f.get("messageId") == ack.get("messageId"))
    assert seen.get("attachments") == [declared], f"the broadcast's attachments: {seen}"
    assert seen.get("message") == "look", str(seen)
    page = await b.request({"action": "getMessages", "roomId": room})
    stored = [m for m in page.get("messages", []) if m.get("messageId") == ack["messageId"]]
    assert stored and stored[0].get("attachments") == [declared], f"history: {page}"
    answer = await download_url(b, room, declared["key"])
    assert answer.get("type") == "ack" and answer.get("action") == "getAttachmentUrl", str(answer)
    left = seconds_until(int(answer.get("expiresAt", 0)))
    assert 0 < left <= MAX_URL_SECONDS + 5, f"expiresAt is {left:.0f} s away: {answer}"
    got = await fetch(http, "GET", answer["url"])
    assert got.status == 200, f"the download answered HTTP {got.status}"
    assert got.body == data, f"the download returned {len(got.body)} other bytes"


@check("MEDIA-005", MUST, "media")
async def check_a_message_may_be_attachments_alone(rest, http, connect):
    """§2: a sendMessage with attachments and no text is stored (its message is empty)."""
    room = unique_room()
    a, b, alice, _ = await member_pair(connect, rest, room)
    declared = await uploaded(rest, http, alice, PDF, "application/pdf", "notes.pdf")
    ack = await attach(a, room, [declared])
    assert ack.get("type") == "ack", f"expected the ack, got {ack}"
    seen = await b.message(lambda f: f.get("messageId") == ack.get("messageId"))
    assert seen.get("message") == "" and seen.get("attachments") == [declared], str(seen)


@check("MEDIA-006", MUST, "media")
async def check_the_storage_refuses_another_type_than_granted(rest, http, user):
    """§1: the storage itself refuses an upload whose Content-Type differs from the grant's."""
    given = await grant(rest, user, "image/png", len(PNG), "pixel.png")
    field = next((k for k in given.fields if k.lower() == "content-type"), "Content-Type")
    sent = await upload(http, given, PNG, fields={field: "text/html"})
    assert is_refused(sent.status), f"an upload as text/html was stored: HTTP {sent.status}"


@check("MEDIA-007", MUST, "media")
@pytest.mark.parametrize("change", [1, -1], ids=["larger", "smaller"])
async def check_the_storage_refuses_another_size_than_granted(rest, http, user, change):
    """§1: the storage itself refuses a file larger, or smaller, than the grant's size."""
    given = await grant(rest, user, "text/plain", 100, "a.txt")
    sent = await upload(http, given, b"x" * (100 + change))
    assert is_refused(sent.status), f"{100 + change} bytes were stored: HTTP {sent.status}"


@check("MEDIA-008", MUST, "media")
async def check_the_storage_refuses_another_key_than_granted(rest, http, user):
    """§1: the storage itself refuses an upload to a key other than the grant's."""
    given = await grant(rest, user, "text/plain", 5, "a.txt")
    other = f"uploads/{uuid.uuid4()}/{uuid.uuid4().hex}"
    sent = await upload(http, given, b"hello", fields={"key": other})
    assert is_refused(sent.status), f"an upload to {other} was stored: HTTP {sent.status}"


@check("MEDIA-009", MUST, "media")
async def check_another_users_upload_cannot_be_attached(rest, http, connect):
    """§2: attaching another user's upload is ATTACHMENT_NOT_FOUND and nothing is sent."""
    room = unique_room()
    a, b, _, bob = await member_pair(connect, rest, room)
    theirs = await uploaded(rest, http, bob)
    answer = await attach(a, room, [theirs], "mine now")
    expect_error(answer, "ATTACHMENT_NOT_FOUND", "attachments", "sendMessage")
    marker = await b.request({"action": "sendMessage", "roomId": room, "message": "marker"})
    arrived = await a.message(lambda f: f.get("messageId") == marker.get("messageId"))
    assert arrived, "the marker never arrived"
    leaked = a.drain(lambda f: f.get("roomId") == room and f.get("attachments"))
    assert leaked == [], f"a refused attachment was broadcast: {leaked}"


@check("MEDIA-010", MUST, "media")
async def check_attachments_must_match_their_upload(rest, http, connect):
    """§2: a declared size or type unlike the upload is ATTACHMENT_MISMATCH; a key never
    uploaded is ATTACHMENT_NOT_FOUND."""
    room = unique_room()
    a, _, alice, _ = await member_pair(connect, rest, room)
    declared = await uploaded(rest, http, alice, b"plain text", "text/plain", "a.txt")
    for wrong in ({"size": declared["size"] + 1}, {"contentType": "image/png"}):
        answer = await attach(a, room, [{**declared, **wrong}])
        expect_error(answer, "ATTACHMENT_MISMATCH", "attachments", "sendMessage")
    missing = {**declared, "key": f"uploads/{alice.user_id}/{uuid.uuid4().hex}"}
    answer = await attach(a, room, [missing])
    expect_error(answer, "ATTACHMENT_NOT_FOUND", "attachments", "sendMessage")


@check("MEDIA-011", MUST, "media")
async def check_only_members_of_the_room_get_a_download_url(rest, http, connect):
    """§3: a connection not in the room gets NOT_IN_ROOM; asked about its own room, where the
    file was never posted, ATTACHMENT_NOT_FOUND."""
    room, elsewhere = unique_room(), unique_room()
    a, _, alice, _ = await member_pair(connect, rest, room)
    declared = await uploaded(rest, http, alice)
    ack = await attach(a, room, [declared])
    assert ack.get("type") == "ack", f"precondition failed: {ack}"
    eve = await connect(await rest.new_user("eve"))
    await eve.join(elsewhere)
    expect_error(
        await download_url(eve, room, declared["key"]), "NOT_IN_ROOM", None, "getAttachmentUrl"
    )
    expect_error(
        await download_url(eve, elsewhere, declared["key"]),
        "ATTACHMENT_NOT_FOUND",
        "key",
        "getAttachmentUrl",
    )


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _tampered(url: str) -> str:
    parts = urlsplit(url)
    query = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in ("x-amz-signature", "signature"):
            value = ("0" if value[:1] != "0" else "1") + value[1:]
        query.append((name, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


@check("MEDIA-012", MUST, "media")
async def check_files_are_private_without_a_valid_signature(rest, http, connect):
    """§3: the file's URL without its signature, or with a changed one, is refused."""
    room = unique_room()
    a, b, alice, _ = await member_pair(connect, rest, room)
    declared = await uploaded(rest, http, alice)
    assert (await attach(a, room, [declared])).get("type") == "ack", "precondition: attach"
    url = (await download_url(b, room, declared["key"])).get("url", "")
    assert url, "no download URL"
    for what, changed in (("unsigned", _without_query(url)), ("tampered", _tampered(url))):
        got = await fetch(http, "GET", changed)
        assert is_refused(got.status), f"the {what} URL answered HTTP {got.status}"
        assert got.body != PNG, f"the {what} URL returned the file"


@check("MEDIA-013", MUST, "media")
async def check_downloads_never_render_as_the_app(rest, http, connect):
    """§3: downloads carry X-Content-Type-Options: nosniff and their declared type; a file
    that is not a raster image downloads as an attachment."""
    room = unique_room()
    a, b, alice, _ = await member_pair(connect, rest, room)
    pdf = await uploaded(rest, http, alice, PDF, "application/pdf", "notes.pdf")
    image = await uploaded(rest, http, alice)
    assert (await attach(a, room, [pdf, image])).get("type") == "ack", "precondition: attach"
    for declared in (pdf, image):
        url = (await download_url(b, room, declared["key"])).get("url", "")
        got = await fetch(http, "GET", url)
        assert got.status == 200, f"{declared['name']}: HTTP {got.status}"
        headers = got.headers
        sniff = headers.get("X-Content-Type-Options", "")
        assert sniff.lower() == "nosniff", f"{declared['name']}: X-Content-Type-Options {sniff!r}"
        kind = headers.get("Content-Type", "").split(";")[0].strip().lower()
        assert kind == declared["contentType"], f"{declared['name']}: Content-Type {kind!r}"
    disposition = await fetch(http, "GET", (await download_url(b, room, pdf["key"]))["url"])
    value = disposition.headers.get("Content-Disposition", "")
    assert value.lower().startswith("attachment"), f"the PDF's Content-Disposition: {value!r}"


async def _wait_past(epoch_ms: int, what: str) -> None:
    left = seconds_until(epoch_ms)
    if left > MAX_URL_SECONDS + 5:
        raise AssertionError(f"{what} expires {left:.0f} s from now (at most 900)")
    await asyncio.sleep(max(0.0, left) + 1.5)


@check("MEDIA-014", MUST, "media")
async def check_urls_stop_working_when_they_expire(
    url_life_stage, http, conformance_timeout, pytestconfig
):
    """§1, §3: an upload URL and a download URL are refused after their expiresAt (on a stage
    with short URL lives when the suite starts its own; else when they expire within
    --max-url-wait)."""
    rest = url_life_stage.rest
    alice = await rest.new_user("alice")
    late = await grant(rest, alice, "text/plain", 5, "late.txt")
    life, wait = seconds_until(late.expires_at), pytestconfig.getoption("max_url_wait")
    if life > wait:
        pytest.skip(
            f"the stage's URLs live {life:.0f} s, longer than --max-url-wait {wait:.0f} s: "
            "pass a longer wait, or start the stage with shorter URL lives"
        )
    # The stage may have just started: its functions' first invocations are cold starts.
    peer = await Peer.connect(url_life_stage.ws_url, alice.token, conformance_timeout * 4)
    try:
        room = unique_room()
        await peer.join(room)
        declared, started = None, time.monotonic()
        while declared is None and time.monotonic() - started < 60:  # short lives, busy hosts
            given = await grant(rest, alice, "text/plain", 5, "a.txt")
            if (await upload(http, given, b"hello")).status in OK:
                declared = {"key": given.key, "contentType": "text/plain", "size": 5, "name": "a"}
        assert declared is not None, "precondition: no upload within its URL's life in 60 s"
        assert (await attach(peer, room, [declared])).get("type") == "ack", "precondition"
        answer = await download_url(peer, room, declared["key"])
        await _wait_past(late.expires_at, "the upload URL")
        sent = await upload(http, late, b"hello")
        assert is_refused(sent.status), f"an expired upload URL stored: HTTP {sent.status}"
        await _wait_past(int(answer["expiresAt"]), "the download URL")
        got = await fetch(http, "GET", answer["url"])
        assert is_refused(got.status), f"an expired download URL answered HTTP {got.status}"
    finally:
        await peer.close()


@check("MEDIA-015", MUST, "media")
async def check_files_of_a_chat_go_to_its_participants_only(rest, http, connect, pytestconfig):
    """§3 (contract v2): a file posted in a chat reaches its participants with the message and
    as a download by chatId; anyone else gets CHAT_NOT_FOUND; another user's upload cannot be
    posted there."""
    if "chats" not in declared_profiles(pytestconfig):
        pytest.skip("needs profile chats (a contract v2 stage) as well")
    ada, bob, eve = [await rest.new_user(n) for n in ("ada", "bob", "eve")]
    chat = await direct_chat(rest, ada, bob)
    chat_id = chat.get("chatId")
    assert isinstance(chat_id, str), f"precondition: POST /chats: {chat}"
    a, b, e = await connect(ada), await connect(bob), await connect(eve)
    declared = await uploaded(rest, http, ada, PDF, "application/pdf", "notes.pdf")
    ack = await a.request({"action": "sendMessage", "chatId": chat_id, "attachments": [declared]})
    assert ack.get("type") == "ack" and ack.get("chatId") == chat_id, f"expected the ack: {ack}"
    seen = await b.message(lambda f: f.get("messageId") == ack.get("messageId"))
    assert seen.get("attachments") == [declared], f"the chat message's attachments: {seen}"
    ask = {"action": "getAttachmentUrl", "chatId": chat_id, "key": declared["key"]}
    answer = await b.request(ask)
    assert answer.get("type") == "ack" and answer.get("chatId") == chat_id, str(answer)
    got = await fetch(http, "GET", answer["url"])
    assert (got.status, got.body) == (200, PDF), f"the download answered HTTP {got.status}"
    expect_error(await e.request(ask), "CHAT_NOT_FOUND", None, "getAttachmentUrl")
    theirs = await uploaded(rest, http, eve)
    refused = await a.request({"action": "sendMessage", "chatId": chat_id, "attachments": [theirs]})
    expect_error(refused, "ATTACHMENT_NOT_FOUND", "attachments", "sendMessage")
