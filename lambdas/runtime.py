"""The clients and stores of one Lambda container, built once (at first use) from ``Settings``."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from lambdas.contract.errors import ConfigurationError
from lambdas.settings import Settings

if TYPE_CHECKING:  # imported where used: a function that needs no AWS never loads boto3
    from lambdas.domain.chats import ChatStore
    from lambdas.domain.connections import ConnectionStore
    from lambdas.domain.dispatch import Dispatcher
    from lambdas.domain.fanout import Poster
    from lambdas.domain.media import MediaStore
    from lambdas.domain.messages import MessageStore
    from lambdas.domain.receipts import ReceiptStore
    from lambdas.domain.room_receipts import RoomReceiptStore
    from lambdas.domain.rooms import UserRooms
    from lambdas.domain.shard_claims import ShardClaims
    from lambdas.domain.typing_gate import TypingGate
    from lambdas.domain.users import UserStore

__all__ = [
    "chats",
    "connections",
    "dispatcher",
    "jwt_secret",
    "media",
    "messages",
    "poster",
    "receipts",
    "reset",
    "room_receipts",
    "settings",
    "shard_claims",
    "typing_gate",
    "user_rooms",
    "users",
]


def _client(service: str, config_s3: dict[str, str] | None = None, **kwargs: Any) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"total_max_attempts": 3, "mode": "standard"},
        max_pool_connections=50,
        signature_version="s3v4" if service == "s3" else None,
        s3=config_s3,
    )
    return boto3.client(service, config=config, **kwargs)


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def _dynamodb() -> Any:
    return _client("dynamodb")


@functools.cache
def users() -> UserStore:
    from lambdas.domain.users import UserStore

    settings().require("users_table")
    return UserStore(_dynamodb(), settings().users_table)


@functools.cache
def connections() -> ConnectionStore:
    from lambdas.domain.connections import ConnectionStore

    s = settings()
    s.require("connections_table")
    return ConnectionStore(_dynamodb(), s.connections_table, s.connection_ttl_seconds, s.max_rooms)


@functools.cache
def messages() -> MessageStore:
    from lambdas.domain.messages import MessageStore

    s = settings()
    s.require("messages_table")
    return MessageStore(_dynamodb(), s.messages_table, s.dedupe_ttl_seconds)


@functools.cache
def chats() -> ChatStore:
    from lambdas.domain.chats import ChatStore

    s = settings()
    s.require("chats_table")
    return ChatStore(_dynamodb(), s.chats_table, s.max_group_participants)


@functools.cache
def receipts() -> ReceiptStore:
    from lambdas.domain.receipts import ReceiptStore

    settings().require("chats_table")
    return ReceiptStore(_dynamodb(), settings().chats_table)


@functools.cache
def room_receipts() -> RoomReceiptStore:
    from lambdas.domain.room_receipts import RoomReceiptStore

    settings().require("chats_table")
    return RoomReceiptStore(_dynamodb(), settings().chats_table)


@functools.cache
def typing_gate() -> TypingGate:
    from lambdas.domain.typing_gate import TypingGate

    s = settings()
    s.require("connections_table")
    return TypingGate(_dynamodb(), s.connections_table, s.typing_interval_ms)


@functools.cache
def user_rooms() -> UserRooms:
    from lambdas.domain.rooms import UserRooms

    s = settings()
    s.require("chats_table")
    return UserRooms(_dynamodb(), s.chats_table, s.max_rooms)


@functools.cache
def media() -> MediaStore:
    """The media bucket. Uploads and downloads are presigned with SigV4 for the bucket's
    regional virtual-host name (``{bucket}.s3.{region}.amazonaws.com``): the name the media
    CDN forwards to, so a download's signature holds through it."""
    from lambdas.domain.media import MediaStore

    s = settings()
    s.require("media_bucket")
    s3 = _client(
        "s3",
        config_s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"},
    )
    return MediaStore(
        s3,
        s.media_bucket,
        s.media_content_types,
        s.media_max_bytes,
        s.media_upload_ttl_seconds,
        s.media_download_ttl_seconds,
        s.media_download_url,
    )


def jwt_secret() -> str:
    """The signing key: ``CHATSTACK_JWT_SECRET``, else the SSM SecureString it names.

    The parameter's value is cached per (name, ``CHATSTACK_JWT_SECRET_VERSION``), never for
    the container's life alone: Terraform passes the key's version with its name, so rotating
    the key changes every reader's configuration, Lambda runs the next invocation of each in a
    new container, and that container reads the new key.
    """
    s = settings()
    if s.jwt_secret:
        return s.jwt_secret
    if s.jwt_secret_param:
        return _parameter(s.jwt_secret_param, s.jwt_secret_version)
    raise ConfigurationError("set CHATSTACK_JWT_SECRET or CHATSTACK_JWT_SECRET_PARAM")


@functools.cache
def _parameter(name: str, version: str | None) -> str:
    ssm = _client("ssm")
    return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]


def reset() -> None:
    """Forget every client, store, setting and key: the next use builds them anew, as in a
    new container (for tests)."""
    cached = (settings, _dynamodb, users, connections, messages, media, _parameter, poster)
    stores = (chats, user_rooms, shard_claims, dispatcher, receipts, room_receipts, typing_gate)
    for function in (*cached, *stores):
        function.cache_clear()


@functools.cache
def poster() -> Poster:
    """Delivery to ``@connections`` at ``CHATSTACK_MANAGEMENT_URL``, exactly as on AWS.

    ``CHATSTACK_DELIVERY=signed`` (default): SigV4-signed POSTs over keep-alive connections,
    many at once, with botocore's credential chain and signer; ``boto3``: one
    ``post_to_connection`` call after another.
    """
    s = settings()
    s.require("management_url")
    if s.delivery == "boto3":
        from lambdas.domain.delivery import ManagementApiPoster

        return ManagementApiPoster(
            _client("apigatewaymanagementapi", endpoint_url=s.management_url)
        )
    import boto3

    from lambdas.domain.signed_delivery import SignedPoster

    session = boto3.Session()
    region = session.region_name or "us-east-1"
    return SignedPoster(s.management_url, region, session.get_credentials())


@functools.cache
def shard_claims() -> ShardClaims:
    from lambdas.domain.shard_claims import ShardClaims

    settings().require("connections_table")
    return ShardClaims(_dynamodb(), settings().connections_table)


@functools.cache
def dispatcher() -> Dispatcher | None:
    """Asynchronous invocations of ``CHATSTACK_FANOUT_FUNCTION``; None when it is unset."""
    s = settings()
    if not s.fanout_function:
        return None
    from lambdas.domain.dispatch import LambdaDispatcher

    return LambdaDispatcher(_client("lambda"), s.fanout_function)
