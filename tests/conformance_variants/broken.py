"""Deliberately broken handlers. Each keeps the real code but for one defect, which the
conformance suite must catch (tests/conformance_variants/test_broken_stages.py)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import boto3

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint, ws_route
from lambdas.contract.chats import (
    DIRECT,
    Person,
    check_chat_id,
    history_query,
    parse_create_chat,
)
from lambdas.contract.errors import AttachmentNotFound, ChatNotFound, RateLimited
from lambdas.contract.frames import ack_attachment_url, ack_send
from lambdas.contract.media import (
    Attachment,
    UploadRequest,
    parse_upload,
    upload_key,
)
from lambdas.contract.receipts import (
    ack_receipt,
    ack_typing,
    parse_receipt,
    parse_typing,
    typing_frame,
)
from lambdas.contract.room_receipts import (
    Position,
    RoomMarker,
    RoomReceiptRequest,
    ack_room_receipt,
)
from lambdas.contract.validation import history_page, parse_attachment_url, parse_send
from lambdas.domain import keys
from lambdas.domain.chats import ChatStore
from lambdas.domain.conversations import create_chat
from lambdas.domain.fanout import (
    ConnectionGone,
    Deliveries,
    OneAtATime,
    Poster,
    fan_out_to_users,
    process_stream_batch,
)
from lambdas.domain.media import MediaStore, PresignedUpload
from lambdas.domain.receipts import ReceiptStore, marker_from_item
from lambdas.domain.room_receipts import (
    ATTRIBUTE,
    RoomReceiptStore,
    position_key,
    room_marker_from_item,
    room_receipt,
)
from lambdas.domain.signals import send_receipt
from lambdas.domain.tokens import Identity, verify_token
from lambdas.handlers import get_messages, login, signup

Event = dict[str, Any]


def _all_connections(room_id: str) -> list[str]:
    """Every open connection, whatever the room (the defect: a scan instead of the room)."""
    items = boto3.client("dynamodb").scan(
        TableName=os.environ["CHATSTACK_CONNECTIONS_TABLE"],
        FilterExpression="sk = :meta",
        ExpressionAttributeValues={":meta": {"S": "meta"}},
    )["Items"]
    return [item["connectionId"]["S"] for item in items]


def leaky_broadcaster(event: Event, context: Any) -> dict[str, Any]:
    """Broadcasts every message to every connection, across rooms."""
    report = process_stream_batch(
        # A 410 removes nothing: $disconnect removes closed connections, and a connection still
        # in its handshake (410 too) must keep its record (removed, its joinRoom would fail).
        event["Records"],
        _all_connections,
        runtime.poster(),
        lambda connection_id, room_id: False,
    )
    return report.to_response()


class _GiveUpPoster(OneAtATime):
    """Stops delivering (silently) after the first connection that is gone."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._gave_up = False

    def post(self, connection_id: str, data: bytes) -> None:
        if self._gave_up:
            return
        try:
            self._inner.post(connection_id, data)
        except ConnectionGone:
            self._gave_up = True
            raise


def give_up_broadcaster(event: Event, context: Any) -> dict[str, Any]:
    """Stops fanning out a batch at the first 410 Gone."""
    store = runtime.connections()
    report = process_stream_batch(
        event["Records"], store.members, _GiveUpPoster(runtime.poster()), store.remove_gone
    )
    return report.to_response()


def trusting_connect(event: Event, context: Any) -> dict[str, Any]:
    """Accepts any token: a bad one connects as an anonymous user."""
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        identity = verify_token(token, runtime.jwt_secret())
    except Exception:
        identity = Identity("anonymous", "anonymous", "anonymous@example.test")
    runtime.connections().add(event["requestContext"]["connectionId"], identity)
    return {"statusCode": 200}


def newest_first_history(event: Event, context: Any) -> dict[str, Any]:
    """Answers history pages newest first."""
    result = get_messages.handler(event, context)
    frame = json.loads(result["body"])
    if frame.get("type") == "messages":
        frame["messages"].reverse()
    return {**result, "body": json.dumps(frame, ensure_ascii=False)}


def refusing_login(event: Event, context: Any) -> dict[str, Any]:
    """Answers every login, right or wrong, with 401 INVALID_CREDENTIALS."""
    result = login.handler(event, context)
    if result["statusCode"] == 200:
        error = {"code": "INVALID_CREDENTIALS", "message": "invalid e-mail or password"}
        result = {**result, "statusCode": 401, "body": json.dumps({"error": error})}
    return result


def hash_returning_signup(event: Event, context: Any) -> dict[str, Any]:
    """Answers a signup with the stored password hash."""
    result = signup.handler(event, context)
    if result["statusCode"] == 201:
        body = json.loads(result["body"])
        _, password_hash = runtime.users().find_by_email(body["email"])
        body["passwordHash"] = password_hash
        result = {**result, "body": json.dumps(body)}
    return result


# -- silent loss: which message of a run a frame is, read from the room's history -------------
# The broadcaster runs in several sandboxes at once (lanes), so the variants keep no state of
# their own: a message's place among its sender's, and a room's first sender, come from the
# Messages table, which every sandbox sees alike.


def _room_history(room_id: str) -> list[dict[str, Any]]:
    """The room's stored messages, oldest first (a conformance room holds a few dozen)."""
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": os.environ["CHATSTACK_MESSAGES_TABLE"],
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": keys.room_partition(room_id)}},
        "ConsistentRead": True,
    }
    while True:
        page = client.query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return [item for item in items if "messageId" in item]
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _place_in_run(frame: dict[str, Any]) -> int:
    """0 for a sender's first message to a room, 1 for its second, ..."""
    run = [
        item["messageId"]["S"]
        for item in _room_history(frame["roomId"])
        if item["userId"]["S"] == frame["userId"]
    ]
    return run.index(frame["messageId"])


def _first_sender(room_id: str) -> str:
    return _room_history(room_id)[0]["userId"]["S"]


class _LossyPoster:
    """Posts through the real poster but drops, silently, every other recipient of the messages
    ``drops`` names: they are reported delivered, nothing is logged, the sender got its ack."""

    def __init__(self, inner: Poster, drops: Callable[[dict[str, Any]], bool]) -> None:
        self._inner = inner
        self._drops = drops

    def deliver(
        self, connection_ids: Sequence[str], data: bytes, deadline: float | None = None
    ) -> Deliveries:
        dropped = connection_ids[1::2] if self._drops(json.loads(data)) else []
        kept = [c for c in connection_ids if c not in dropped]
        outcome = self._inner.deliver(kept, data, deadline)
        outcome.delivered += dropped
        return outcome


def _drops_within_runs(frame: dict[str, Any]) -> bool:
    """Every other recipient of the room misses every other message of a sender's run from its
    fourth on (the checks that look at one to three messages per sender never notice)."""
    place = _place_in_run(frame)
    return place >= 3 and place % 2 == 1


def _drops_later_senders(frame: dict[str, Any]) -> bool:
    """Every other recipient of the room misses the messages of every sender but the room's
    first, from each one's second message on."""
    return frame["userId"] != _first_sender(frame["roomId"]) and _place_in_run(frame) >= 1


def _lossy(drops: Callable[[dict[str, Any]], bool], event: Event) -> dict[str, Any]:
    # Gone connections are removed as the real broadcaster removes them (remove_gone: one in its
    # handshake is kept): the variant's only defect is the one it is named for.
    store = runtime.connections()
    poster = _LossyPoster(runtime.poster(), drops)
    report = process_stream_batch(event["Records"], store.members, poster, store.remove_gone)
    return report.to_response()


def lossy_broadcaster(event: Event, context: Any) -> dict[str, Any]:
    """Silently loses part of long runs of one sender's messages, for some members."""
    return _lossy(_drops_within_runs, event)


def later_senders_lossy_broadcaster(event: Event, context: Any) -> dict[str, Any]:
    """Silently loses, for some members, what a room's second and later senders send."""
    return _lossy(_drops_later_senders, event)


# -- contract v2: chats ------------------------------------------------------------------------


def leaky_chat_history(event: Event, context: Any) -> dict[str, Any]:
    """Answers any user with any chat's history (the defect: no participant check)."""

    @authed_endpoint(body=False)
    def answer(request: RestRequest) -> tuple[int, dict[str, Any]]:
        chat_id = check_chat_id(request.path)
        limit, before = history_page(history_query(request.query))
        messages, next_before = runtime.messages().history(None, limit, before, chat_id=chat_id)
        return 200, {
            "chatId": chat_id,
            "messages": [m.to_wire() for m in messages],
            "nextBefore": next_before,
        }

    return answer(event, context)


# -- profile media -----------------------------------------------------------------------------


def _target(request: Any) -> tuple[str, str]:
    return ("chatId", request.chat_id) if request.chat_id else ("roomId", request.room_id)


def leaky_attachment_url(event: Event, context: Any) -> dict[str, Any]:
    """Hands a download URL of any uploaded file to anyone (the defect: no membership check)."""

    @ws_route(action="getAttachmentUrl")
    def answer(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
        request = parse_attachment_url(frame)
        media = runtime.media()
        head = media._s3.head_object(Bucket=media._bucket, Key=request.key)
        found = Attachment(request.key, head["ContentType"], head["ContentLength"], "file")
        url, expires_at = media.download_url(found)
        return ack_attachment_url(_target(request), request.key, url, expires_at)

    return answer(event, context)


class _NoPairKey(ChatStore):
    """Creates a direct chat under a new id every time (the defect: no key for the pair)."""

    def create_direct(self, me: Person, other: Person, now: int | None = None):
        chat_id = "d-" + uuid.uuid4().hex
        when = int(time.time() * 1000) if now is None else now
        meta = self._meta_item(chat_id, DIRECT, None, me.user_id, when)
        self._put_new(meta)
        self._put_new(self._member_item(meta, me, other, when))
        self._put_new(self._member_item(meta, other, me, when))
        return self.detail(chat_id, me.user_id), True


def duplicating_create_chat(event: Event, context: Any) -> dict[str, Any]:
    """Creates direct chats anew at every request, so a pair may have many."""

    @authed_endpoint(body=True)
    def answer(request: RestRequest) -> tuple[int, dict[str, Any]]:
        settings = runtime.settings()
        store = _NoPairKey(boto3.client("dynamodb"), settings.chats_table, 50)
        wanted = parse_create_chat(request.body, request.identity.user_id, 50)
        chat, created = create_chat(store, runtime.users(), request.identity, wanted)
        return (201 if created else 200), chat.to_wire()

    return answer(event, context)


def trusting_send_message(event: Event, context: Any) -> dict[str, Any]:
    """Stores attachments as declared (the defect: no check of whose upload, or what it holds)."""

    @ws_route(action="sendMessage")
    def answer(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
        request = parse_send(frame)
        sender = runtime.connections().member(connection_id, request.room_id)
        runtime.messages().record_attachments(request.room_id, request.attachments)
        message, duplicate = runtime.messages().put(
            request.room_id,
            sender.user_id,
            sender.username,
            request.message,
            request.client_message_id,
            attachments=request.attachments,
        )
        return ack_send(message, duplicate=duplicate)

    return answer(event, context)


class _LaxPolicy(MediaStore):
    """Presigns uploads whose policy fixes the key alone (the defect: S3 is not told the type
    or size, so only the function's own check of the request stands)."""

    def presign_upload(self, user_id: str, request: UploadRequest) -> PresignedUpload:
        key = upload_key(user_id, uuid.uuid4().hex)
        post = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": request.content_type},
            Conditions=[["starts-with", "$Content-Type", ""]],
            ExpiresIn=self._upload_ttl,
        )
        expires_at = (int(time.time()) + self._upload_ttl) * 1000
        return PresignedUpload(key, post["url"], dict(post["fields"]), expires_at)


def lax_upload_url(event: Event, context: Any) -> dict[str, Any]:
    """POST /upload-url with a policy that leaves the content type and size free."""

    @authed_endpoint(body=True)
    def answer(request: RestRequest) -> tuple[int, dict[str, Any]]:
        real = runtime.media()
        lax = _LaxPolicy(
            real._s3, real._bucket, real._content_types, real._max_bytes, real._upload_ttl, 300
        )
        wanted = parse_upload(request.body, real.policy)
        return 200, lax.presign_upload(request.identity.user_id, wanted).to_wire()

    return answer(event, context)


class _InlineDownloads(MediaStore):
    """Serves every file inline with the type it is stored with (the defect: an HTML or PDF
    file opens in the browser instead of downloading)."""

    def download_url(self, attachment: Attachment) -> tuple[str, int]:
        url = self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": attachment.key},
            ExpiresIn=self._download_ttl,
        )
        return url, (int(time.time()) + self._download_ttl) * 1000


def inline_attachment_url(event: Event, context: Any) -> dict[str, Any]:
    """getAttachmentUrl whose URLs leave out the attachment disposition."""

    @ws_route(action="getAttachmentUrl")
    def answer(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
        request = parse_attachment_url(frame)
        runtime.connections().member(connection_id, request.room_id)
        found = runtime.messages().attachment(request.room_id, request.key, chat_id=request.chat_id)
        if found is None:
            raise AttachmentNotFound("no such attachment in this room", field="key")
        real = runtime.media()
        inline = _InlineDownloads(
            real._s3, real._bucket, real._content_types, real._max_bytes, 300, real._download_ttl
        )
        url, expires_at = inline.download_url(found)
        return ack_attachment_url(_target(request), request.key, url, expires_at)

    return answer(event, context)


# -- contract v3: receipts, typing, presence ---------------------------------------------------


class _BackwardReceipts(ReceiptStore):
    """Sets a marker to whatever a receipt says (the defect: no "only forward" condition)."""

    def move(self, chat_id: str, user_id: str, kind: str, seq: int) -> tuple[dict, bool]:
        attribute = "deliveredSeq" if kind == "delivered" else "readSeq"
        try:
            item = self._db.update_item(
                TableName=self._table,
                Key=keys.member_key(chat_id, user_id),
                UpdateExpression=f"SET {attribute} = :seq",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":seq": {"N": str(seq)}},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self._db.exceptions.ConditionalCheckFailedException:
            raise ChatNotFound() from None
        return item, True


class _BackwardRoomReceipts(RoomReceiptStore):
    """Sets a room marker to whatever a receipt says (the same defect, in rooms)."""

    def move(
        self, room_id: str, user_id: str, kind: str, position: Position
    ) -> tuple[RoomMarker, bool]:
        item = self._db.update_item(
            TableName=self._table,
            Key=keys.room_marker_key(room_id, user_id),
            UpdateExpression=f"SET {ATTRIBUTE[kind]} = :pos, userId = :user",
            ExpressionAttributeValues={
                ":pos": {"S": position_key(position)},
                ":user": {"S": user_id},
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return room_marker_from_item(user_id, item), True


def backward_receipt(event: Event, context: Any) -> dict[str, Any]:
    """Moves a marker back when an older receipt comes (in chats and in rooms)."""

    @ws_route(action="receipt")
    def answer(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
        request = parse_receipt(frame)
        who = runtime.connections().identity(connection_id)
        if isinstance(request, RoomReceiptRequest):
            rooms = _BackwardRoomReceipts(boto3.client("dynamodb"), runtime.settings().chats_table)
            marker, moved = room_receipt(
                rooms, runtime.user_rooms(), runtime.messages(), who.user_id, request
            )
            return ack_room_receipt(request, marker, moved)
        store = _BackwardReceipts(boto3.client("dynamodb"), runtime.settings().chats_table)
        item, moved = send_receipt(
            store,
            runtime.chats(),
            runtime.connections(),
            runtime.poster(),
            who.user_id,
            request,
            runtime.settings().receipts_fanout_max,
        )
        return ack_receipt(request, marker_from_item(item), moved)

    return answer(event, context)


def _every_connection() -> dict[str, str]:
    """Every open connection of anyone: connection id → user id (the defect: a scan)."""
    items = boto3.client("dynamodb").scan(
        TableName=os.environ["CHATSTACK_CONNECTIONS_TABLE"],
        FilterExpression="sk = :meta",
        ExpressionAttributeValues={":meta": {"S": "meta"}},
    )["Items"]
    return {item["connectionId"]["S"]: item["userId"]["S"] for item in items}


def leaky_typing(event: Event, context: Any) -> dict[str, Any]:
    """Tells every open connection, in any chat or none, that the user is typing."""

    @ws_route(action="typing")
    def answer(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
        request = parse_typing(frame)
        who = runtime.connections().identity(connection_id)
        runtime.chats().member(request.chat_id, who.user_id)
        if not runtime.typing_gate().admit(request.chat_id, who.user_id, request.state):
            raise RateLimited()
        audience = {c: u for c, u in _every_connection().items() if u != who.user_id}
        signal = typing_frame(request.chat_id, who.user_id, who.username, request.state)
        fan_out_to_users(signal, audience, runtime.poster(), runtime.connections().forget)
        return ack_typing(request)

    return answer(event, context)


def sticky_presence_disconnect(event: Event, context: Any) -> dict[str, Any]:
    """Deletes the connection and its memberships but leaves it among its user's open
    connections: the user never goes offline."""
    connection_id = event["requestContext"]["connectionId"]
    client = boto3.client("dynamodb")
    table = os.environ["CHATSTACK_CONNECTIONS_TABLE"]
    meta = client.get_item(TableName=table, Key=keys.connection_key(connection_id)).get("Item")
    rooms = meta.get("rooms", {}).get("SS", []) if meta else []
    client.delete_item(TableName=table, Key=keys.connection_key(connection_id))
    for room in rooms:
        client.delete_item(TableName=table, Key=keys.membership_key(room, connection_id))
    return {"statusCode": 200}
