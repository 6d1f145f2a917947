"""Media in S3 (lambdas/domain/media.py), the attachment index (messages.py) and the three
media handlers, against moto's S3 and the embedded DynamoDB.

moto stores what a presigned POST sends without checking its policy (the local stage's S3
endpoint does, tests/local_stage/test_s3_front.py): here an upload is a plain PutObject of what
the policy would have let through.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

from lambdas import runtime
from lambdas.contract.errors import AttachmentMismatch, AttachmentNotFound
from lambdas.contract.media import Attachment, MediaPolicy, UploadRequest, upload_key
from lambdas.domain.media import ATTACHED, PENDING, STATE_TAG, MediaStore
from lambdas.domain.messages import MessageStore
from lambdas.handlers import (
    attachment_url,
    create_chat,
    login,
    send_message,
    signup,
    upload_url,
)
from tests.functional.test_handlers import (  # noqa: F401 (fixtures: the handlers' container)
    authed,
    connected,
    context,
    deployed,
    event,
    management,
    rest,
    signed_up,
    ws,
)

POLICY = (MediaPolicy().content_types, MediaPolicy().max_bytes)
USER = "0b3c3f46-6d7f-4b9a-9a53-4c0fd3b8a1e2"


@pytest.fixture(scope="module")
def s3(aws_endpoint):
    return boto3.client("s3", endpoint_url=aws_endpoint, config=Config(signature_version="s3v4"))


@pytest.fixture
def bucket(s3):
    name = f"ft-media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    for entry in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=entry["Key"])
    s3.delete_bucket(Bucket=name)


@pytest.fixture
def media(s3, bucket) -> MediaStore:
    return MediaStore(s3, bucket, *POLICY, 300, 120)


def uploaded(s3, bucket, user=USER, body=b"hello", content_type="text/plain", tag=PENDING):
    """An object as a presigned POST within its policy leaves it."""
    key = upload_key(user, uuid.uuid4().hex)
    s3.put_object(
        Bucket=bucket, Key=key, Body=body, ContentType=content_type, Tagging=f"{STATE_TAG}={tag}"
    )
    return Attachment(key, content_type, len(body), "note.txt")


def tags(s3, bucket, key):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def test_an_upload_policy_binds_key_type_size_tag_and_time(media, bucket):
    """The presigned POST names one key under the user's prefix and conditions on exactly the
    declared type and size, the pending tag and the bucket; it expires with its announcement."""
    before = time.time()
    upload = media.presign_upload(USER, UploadRequest("image/png", 1234, "cat.png"))
    assert upload.key.startswith(f"uploads/{USER}/") and len(upload.key.rsplit("/", 1)[1]) == 32
    policy = json.loads(base64.b64decode(upload.fields["policy"]))
    conditions = policy["conditions"]
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1234, 1234] in conditions
    assert {"bucket": bucket} in conditions and {"key": upload.key} in conditions
    assert any("pending" in str(c.get("tagging", "")) for c in conditions if isinstance(c, dict))
    assert upload.fields["key"] == upload.key
    assert before + 299 <= upload.expires_at / 1000 <= time.time() + 300
    wire = upload.to_wire()
    assert set(wire) == {"key", "url", "method", "fields", "expiresAt"} and wire["method"] == "POST"


def test_a_matching_upload_of_the_sender_passes_the_check(media, s3, bucket):
    """An object under the sender's prefix, of the declared type and size, is accepted."""
    media.check(USER, (uploaded(s3, bucket),))


def test_another_users_key_is_not_found_without_asking_s3(media, s3, bucket):
    """A key under someone else's prefix is refused like a missing one."""
    theirs = uploaded(s3, bucket, user="someone-else")
    with pytest.raises(AttachmentNotFound) as caught:
        media.check(USER, (theirs,))
    assert caught.value.field == "attachments"


def test_a_missing_upload_is_not_found(media):
    """A key of the sender's that holds nothing (never uploaded, refused, expired)."""
    with pytest.raises(AttachmentNotFound):
        media.check(USER, (Attachment(upload_key(USER, "0" * 32), "text/plain", 5, "a.txt"),))


@pytest.mark.parametrize(
    "declared",
    [{"size": 6}, {"content_type": "image/png"}],
    ids=["other-size", "other-type"],
)
def test_an_upload_unlike_its_declaration_is_a_mismatch(media, s3, bucket, declared):
    """What the message declares must be what S3 holds."""
    real = uploaded(s3, bucket)
    claimed = Attachment(
        real.key,
        declared.get("content_type", real.content_type),
        declared.get("size", real.size),
        "x",
    )
    with pytest.raises(AttachmentMismatch) as caught:
        media.check(USER, (claimed,))
    assert "attachments[0]" in caught.value.message


def test_attaching_takes_an_upload_out_of_the_lifecycle_rule(media, s3, bucket):
    """The pending tag the rule matches becomes ``attached``."""
    attachment = uploaded(s3, bucket)
    media.mark_attached((attachment,))
    assert tags(s3, bucket, attachment.key) == {STATE_TAG: ATTACHED}


def test_a_download_url_reads_the_file_with_its_disposition(media, s3, bucket):
    """The presigned GET carries the declared type and, for a non-image, an attachment
    disposition naming the file; it lives the configured time."""
    attachment = uploaded(s3, bucket, body=b"<script>alert(1)</script>", content_type="text/plain")
    url, expires_at = media.download_url(attachment)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["120"]
    assert time.time() + 118 <= expires_at / 1000 <= time.time() + 120
    answer = requests.get(url, timeout=10)
    assert answer.content == b"<script>alert(1)</script>"
    assert answer.headers["Content-Type"] == "text/plain"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="note.txt"')


def test_downloads_can_go_through_a_cdn(s3, bucket):
    """With a download base, the URL names the CDN's host and keeps the signed path and query."""
    direct = MediaStore(s3, bucket, *POLICY, 300, 60)
    through = MediaStore(s3, bucket, *POLICY, 300, 60, "https://d111.cloudfront.net")
    attachment = Attachment(upload_key(USER, "1" * 32), "image/png", 3, "a.png")
    plain, cdn = (
        urlsplit(direct.download_url(attachment)[0]),
        urlsplit(through.download_url(attachment)[0]),
    )
    assert (cdn.scheme, cdn.netloc) == ("https", "d111.cloudfront.net")
    assert cdn.path == plain.path
    assert parse_qs(cdn.query)["response-content-disposition"] == ["inline"]


def test_the_attachment_index_answers_only_for_its_room(dynamodb, make_table):
    """An attachment recorded in a room is found there, and nowhere else."""
    store = MessageStore(dynamodb, make_table("messages").name, 86400)
    attachment = Attachment(upload_key(USER, "2" * 32), "application/pdf", 10, "a.pdf")
    store.record_attachments("lab", (attachment,))
    assert store.attachment("lab", attachment.key) == attachment
    assert store.attachment("other", attachment.key) is None


def test_messages_keep_their_attachments_in_history(dynamodb, make_table):
    """A message with files and no text is stored and read back with them, in order."""
    store = MessageStore(dynamodb, make_table("messages").name, 86400)
    files = (
        Attachment(upload_key(USER, "3" * 32), "image/png", 10, "a.png"),
        Attachment(upload_key(USER, "4" * 32), "text/plain", 3, "b.txt"),
    )
    message, duplicate = store.put("lab", USER, "ann", "", "c-1", attachments=files)
    again, repeated = store.put("lab", USER, "ann", "", "c-1", attachments=files)
    (stored,), _ = store.history("lab", 10, None)
    assert not duplicate and repeated and again.message_id == message.message_id
    assert stored == message and stored.attachments == files


# -- the handlers -------------------------------------------------------------------------


@pytest.fixture
def media_deployed(deployed, monkeypatch, bucket, aws_endpoint):  # noqa: F811
    """The handlers' container with the media bucket (moto's S3)."""
    tables = deployed
    monkeypatch.setenv("CHATSTACK_MEDIA_BUCKET", bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws_endpoint)
    runtime.reset()
    yield tables
    runtime.reset()


def user_token(name: str) -> tuple[str, str]:
    rest(
        signup.handler, {"email": f"{name}@example.com", "password": "password1", "username": name}
    )
    _, answer, _ = rest(login.handler, {"email": f"{name}@example.com", "password": "password1"})
    return answer["token"], answer["user"]["userId"]


def ask_upload(token: str | None, body) -> tuple[int, dict, dict]:
    request = event("rest_post", body=json.dumps(body), resource="/upload-url")
    if token is not None:
        request["headers"]["Authorization"] = f"Bearer {token}"
    answer = upload_url.handler(request, context("upload_url"))
    return answer["statusCode"], json.loads(answer["body"]), answer["headers"]


def test_upload_url_needs_a_token_and_answers_a_presigned_post(media_deployed):
    """No token: 401 with WWW-Authenticate; a refused type: 415; else 200 with the post."""
    token, user_id = user_token("up")
    status, body, headers = ask_upload(None, {"contentType": "image/png", "size": 3, "name": "a"})
    assert status == 401 and body["error"]["code"] == "UNAUTHORIZED"
    assert headers["WWW-Authenticate"] == "Bearer"
    status, body, _ = ask_upload(token, {"contentType": "text/html", "size": 3, "name": "a"})
    assert (status, body["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    status, body, _ = ask_upload(token, {"contentType": "image/png", "size": 3, "name": "a.png"})
    assert status == 200 and body["key"].startswith(f"uploads/{user_id}/")
    assert body["fields"]["key"] == body["key"] and body["method"] == "POST"


def test_send_message_attaches_checked_uploads_only(media_deployed, s3, bucket):
    """A sender's upload is attached (tagged, indexed, stored with the message); another
    user's key is refused and nothing is stored."""
    token, user_id = user_token("att")
    connected(token, "conn-M=")
    mine = uploaded(s3, bucket, user=user_id)
    theirs = uploaded(s3, bucket, user="someone-else")
    refused = ws(
        send_message.handler,
        "conn-M=",
        {"action": "sendMessage", "roomId": "general", "attachments": [theirs.to_wire()]},
    )
    assert (refused["type"], refused["code"]) == ("error", "ATTACHMENT_NOT_FOUND")
    assert runtime.messages().history("general", 10, None)[0] == []
    ack = ws(
        send_message.handler,
        "conn-M=",
        {
            "action": "sendMessage",
            "roomId": "general",
            "message": "see",
            "attachments": [mine.to_wire()],
        },
    )
    assert ack["type"] == "ack"
    (stored,), _ = runtime.messages().history("general", 10, None)
    assert stored.attachments == (mine,) and stored.message == "see"
    assert tags(s3, bucket, mine.key) == {STATE_TAG: ATTACHED}
    assert runtime.messages().attachment("general", mine.key) == mine


def test_attachment_urls_go_to_members_of_the_room_it_was_posted_in(media_deployed, s3, bucket):
    """A member gets a URL that reads the file; a connection outside the room is NOT_IN_ROOM;
    a key not posted in the room is ATTACHMENT_NOT_FOUND."""
    token, user_id = user_token("dl")
    connected(token, "conn-D=")
    mine = uploaded(s3, bucket, user=user_id, body=b"%PDF-1.4", content_type="application/pdf")
    ws(
        send_message.handler,
        "conn-D=",
        {"action": "sendMessage", "roomId": "general", "attachments": [mine.to_wire()]},
    )
    ack = ws(
        attachment_url.handler,
        "conn-D=",
        {"action": "getAttachmentUrl", "roomId": "general", "key": mine.key},
    )
    assert ack["type"] == "ack" and ack["key"] == mine.key
    assert requests.get(ack["url"], timeout=10).content == b"%PDF-1.4"
    outside = ws(
        attachment_url.handler,
        "conn-D=",
        {"action": "getAttachmentUrl", "roomId": "lab", "key": mine.key},
    )
    assert (outside["code"], outside["action"]) == ("NOT_IN_ROOM", "getAttachmentUrl")
    other_key = upload_key(user_id, "5" * 32)
    missing = ws(
        attachment_url.handler,
        "conn-D=",
        {"action": "getAttachmentUrl", "roomId": "general", "key": other_key},
    )
    assert (missing["code"], missing["field"]) == ("ATTACHMENT_NOT_FOUND", "key")


def test_files_posted_in_a_chat_go_to_its_participants_only(media_deployed, s3, bucket):
    """A participant attaches an upload to a chat message; the other participant gets its
    download URL by chatId; a user outside the chat gets CHAT_NOT_FOUND, and a key never posted
    in the chat ATTACHMENT_NOT_FOUND."""
    ada, ada_token = signed_up("ada")
    bob, bob_token = signed_up("bob")
    _, eve_token = signed_up("eve")
    status, chat = authed(create_chat.handler, ada_token, {"type": "direct", "userId": bob})
    assert status == 201
    for token, connection in (
        (ada_token, "conn-ada="),
        (bob_token, "conn-bob="),
        (eve_token, "e="),
    ):
        connected(token, connection)
    mine = uploaded(s3, bucket, user=ada, body=b"%PDF-1.4", content_type="application/pdf")
    frame = {"action": "sendMessage", "chatId": chat["chatId"], "attachments": [mine.to_wire()]}
    ack = ws(send_message.handler, "conn-ada=", frame)
    assert ack["type"] == "ack" and ack["chatId"] == chat["chatId"], ack
    (stored,), _ = runtime.messages().history(None, 10, None, chat_id=chat["chatId"])
    assert stored.attachments == (mine,) and tags(s3, bucket, mine.key) == {STATE_TAG: ATTACHED}
    ask = {"action": "getAttachmentUrl", "chatId": chat["chatId"], "key": mine.key}
    answer = ws(attachment_url.handler, "conn-bob=", ask)
    assert answer["type"] == "ack" and answer["chatId"] == chat["chatId"], answer
    assert requests.get(answer["url"], timeout=10).content == b"%PDF-1.4"
    outside = ws(attachment_url.handler, "e=", ask)
    assert (outside["code"], outside["action"]) == ("CHAT_NOT_FOUND", "getAttachmentUrl")
    missing = ws(attachment_url.handler, "conn-bob=", {**ask, "key": upload_key(ada, "7" * 32)})
    assert (missing["code"], missing["field"]) == ("ATTACHMENT_NOT_FOUND", "key")
    theirs = uploaded(s3, bucket, user=bob)
    refused = ws(send_message.handler, "conn-ada=", {**frame, "attachments": [theirs.to_wire()]})
    assert refused["code"] == "ATTACHMENT_NOT_FOUND", refused
