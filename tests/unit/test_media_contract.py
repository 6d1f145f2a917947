"""The media profile's pure contract (lambdas/contract/media.py, CONTRACT.md §6): upload
requests, attachments of sendMessage, getAttachmentUrl frames, download dispositions."""

from __future__ import annotations

import pytest

from lambdas.contract.errors import FileTooLarge, UnsupportedMediaType, ValidationFailed
from lambdas.contract.frames import Message, ack_attachment_url, message_frame
from lambdas.contract.media import (
    DEFAULT_MAX_BYTES,
    MAX_ATTACHMENTS,
    Attachment,
    MediaPolicy,
    content_disposition,
    is_inline,
    owner_prefix,
    parse_attachments,
    parse_content_types,
    parse_upload,
    upload_key,
)
from lambdas.contract.validation import parse_action, parse_attachment_url, parse_send
from lambdas.settings import Settings

POLICY = MediaPolicy()
USER = "0b3c3f46-6d7f-4b9a-9a53-4c0fd3b8a1e2"
KEY = upload_key(USER, "0123456789abcdef0123456789abcdef")


def upload(**overrides):
    body = {"contentType": "image/png", "size": 1234, "name": "cat.png"}
    body.update(overrides)
    return body


def attachment(**overrides):
    entry = {"key": KEY, "contentType": "image/png", "size": 1234, "name": "cat.png"}
    entry.update(overrides)
    return entry


def refused(call, field, error=ValidationFailed):
    with pytest.raises(error) as caught:
        call()
    assert caught.value.field == field
    return caught.value


def test_an_upload_request_is_normalised():
    """The content type is compared in lower case; the name is kept (NFC)."""
    request = parse_upload(upload(contentType=" Image/PNG ", name="Cafe\u0301.png"), POLICY)
    assert (request.content_type, request.size, request.name) == ("image/png", 1234, "Café.png")


@pytest.mark.parametrize("field", ["contentType", "size", "name"])
def test_every_upload_field_is_required(field):
    """A missing field is a VALIDATION_ERROR naming it."""
    body = upload()
    del body[field]
    refused(lambda: parse_upload(body, POLICY), field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", 0),
        ("size", -1),
        ("size", 1.5),
        ("size", True),
        ("size", "12"),
        ("name", ""),
        ("name", "   "),
        ("name", "a\nb"),
        ("name", "x" * 256),
        ("name", "\ud800"),
        ("name", 7),
        ("contentType", "png"),
        ("contentType", "image/png; charset=x"),
        ("contentType", 3),
    ],
)
def test_malformed_upload_fields_are_refused(field, value):
    """Sizes are whole numbers ≥ 1; names 1-255 printable characters; types bare media types."""
    refused(lambda: parse_upload(upload(**{field: value}), POLICY), field)


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", "application/zip"])
def test_a_type_outside_the_allow_list_is_unsupported(content_type):
    """A well-formed type the stage does not accept is 415 UNSUPPORTED_MEDIA_TYPE."""
    error = refused(
        lambda: parse_upload(upload(contentType=content_type), POLICY),
        "contentType",
        UnsupportedMediaType,
    )
    assert error.status == 415 and "image/png" in error.message


def test_a_file_above_the_limit_is_too_large():
    """The default limit is 10 MiB: a byte more is 413 FILE_TOO_LARGE; the limit itself is fine."""
    assert parse_upload(upload(size=DEFAULT_MAX_BYTES), POLICY).size == DEFAULT_MAX_BYTES
    error = refused(
        lambda: parse_upload(upload(size=DEFAULT_MAX_BYTES + 1), POLICY), "size", FileTooLarge
    )
    assert error.status == 413 and str(DEFAULT_MAX_BYTES) in error.message


def test_the_policy_is_configurable():
    """Another list of types and another limit, as the settings give them."""
    settings = Settings.from_env(
        {"CHATSTACK_MEDIA_CONTENT_TYPES": "Image/PNG, text/csv", "CHATSTACK_MEDIA_MAX_BYTES": "10"}
    )
    assert settings.media_policy == MediaPolicy(("image/png", "text/csv"), 10)
    assert parse_upload(upload(contentType="text/csv", size=10), settings.media_policy)
    refused(lambda: parse_upload(upload(size=11), settings.media_policy), "size", FileTooLarge)
    with pytest.raises(ValueError):
        parse_content_types(["image/png", "nope"])


def test_attachments_are_optional_and_parsed():
    """No ``attachments``: none; otherwise each entry becomes an Attachment."""
    assert parse_attachments({}) == ()
    (parsed,) = parse_attachments({"attachments": [attachment(contentType="IMAGE/png")]})
    assert parsed == Attachment(KEY, "image/png", 1234, "cat.png")


@pytest.mark.parametrize(
    "value",
    [
        [],
        "x",
        [attachment()] * 2,
        [attachment(key=f"{KEY[:-1]}{i:x}") for i in range(MAX_ATTACHMENTS + 1)],
        [attachment(key="other/" + KEY)],
        [attachment(key=KEY.upper())],
        [attachment(size=0)],
        [attachment(name="")],
        [attachment(contentType="nope")],
        [{"key": KEY}],
        ["text"],
    ],
    ids=[
        "empty",
        "not-a-list",
        "repeated-key",
        "too-many",
        "foreign-key-shape",
        "uppercase-key",
        "size-0",
        "no-name",
        "bad-type",
        "missing-fields",
        "not-an-object",
    ],
)
def test_malformed_attachments_are_refused(value):
    """Lists of 1-10 well-formed, distinct attachments only; any fault names ``attachments``."""
    refused(lambda: parse_attachments({"attachments": value}), "attachments")


def test_a_message_may_be_text_attachments_or_both():
    """With attachments the text may be absent or empty; without, it is required."""
    base = {"action": "sendMessage", "roomId": "lab"}
    only = parse_send({**base, "attachments": [attachment()]})
    assert only.message == "" and len(only.attachments) == 1
    assert parse_send({**base, "message": "", "attachments": [attachment()]}).message == ""
    both = parse_send({**base, "message": "look", "attachments": [attachment()]})
    assert both.message == "look" and both.attachments
    refused(lambda: parse_send({**base, "message": ""}), "message")
    refused(lambda: parse_send(base), "message")
    refused(lambda: parse_send({**base, "message": 5, "attachments": [attachment()]}), "message")


def test_get_attachment_url_frames_are_validated():
    """``getAttachmentUrl`` is a known action; it needs a room id and an upload key."""
    assert parse_action({"action": "getAttachmentUrl"}) == "getAttachmentUrl"
    request = parse_attachment_url({"roomId": "lab", "key": KEY})
    assert (request.room_id, request.key) == ("lab", KEY)
    refused(lambda: parse_attachment_url({"key": KEY}), "roomId")
    refused(lambda: parse_attachment_url({"roomId": "a b", "key": KEY}), "roomId")
    refused(lambda: parse_attachment_url({"roomId": "lab"}), "key")
    refused(lambda: parse_attachment_url({"roomId": "lab", "key": "../etc/passwd"}), "key")
    in_chat = parse_attachment_url({"chatId": "c-1", "key": KEY})
    assert (in_chat.room_id, in_chat.chat_id, in_chat.key) == (None, "c-1", KEY)
    refused(lambda: parse_attachment_url({"chatId": "c-1", "roomId": "lab", "key": KEY}), "chatId")


def test_keys_lie_under_their_owners_prefix():
    """An upload key is ``uploads/{userId}/{32 hex}``."""
    assert KEY.startswith(owner_prefix(USER))
    assert KEY.removeprefix(owner_prefix(USER)) == "0123456789abcdef" * 2


def test_raster_images_are_inline_and_everything_else_an_attachment():
    """SVG and HTML are never inline; an attachment names the file, quotes escaped."""
    assert is_inline("image/png") and is_inline("image/webp")
    assert not is_inline("image/svg+xml") and not is_inline("text/html")
    assert content_disposition(Attachment(KEY, "image/jpeg", 1, "a.jpg")) == "inline"
    header = content_disposition(Attachment(KEY, "application/pdf", 1, 'Résumé "2".pdf'))
    assert header == (
        "attachment; filename=\"R_sum_ _2_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%222%22.pdf"
    )


def test_messages_carry_attachments_only_when_they_have_some():
    """A text message's frame is unchanged; one with files lists them as declared."""
    text = Message("m", "lab", "u", "ann", "hi", 1, None)
    assert "attachments" not in message_frame(text)
    files = Message(
        "m",
        "lab",
        "u",
        "ann",
        "",
        1,
        None,
        attachments=(Attachment(KEY, "text/plain", 3, "a.txt"),),
    )
    assert message_frame(files)["attachments"] == [
        {"key": KEY, "contentType": "text/plain", "size": 3, "name": "a.txt"}
    ]


def test_the_download_answer_is_an_ack_naming_room_and_key():
    """getAttachmentUrl answers with an ack: type, action, roomId, key, url, expiresAt."""
    assert ack_attachment_url(("roomId", "lab"), KEY, "http://x", 5) == {
        "type": "ack",
        "action": "getAttachmentUrl",
        "roomId": "lab",
        "key": KEY,
        "url": "http://x",
        "expiresAt": 5,
    }


def test_url_lifetimes_are_bounded():
    """Upload and download URLs live 300 s by default, at most 900 s (a few minutes)."""
    from lambdas.contract.errors import ConfigurationError

    default = Settings.from_env({})
    assert (default.media_upload_ttl_seconds, default.media_download_ttl_seconds) == (300, 300)
    with pytest.raises(ConfigurationError):
        Settings.from_env({"CHATSTACK_MEDIA_DOWNLOAD_TTL_SECONDS": "901"})
    with pytest.raises(ConfigurationError):
        Settings.from_env({"CHATSTACK_MEDIA_CONTENT_TYPES": "image/png,bad"})
