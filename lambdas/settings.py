"""Every setting of the Lambda functions, read in one place from ``CHATSTACK_*`` variables.

| variable | default | used by |
|---|---|---|
| ``CHATSTACK_USERS_TABLE`` | required | signup, login |
| ``CHATSTACK_MESSAGES_TABLE`` | required | sendMessage, getMessages |
| ``CHATSTACK_CONNECTIONS_TABLE`` | required | every WebSocket route, broadcaster |
| ``CHATSTACK_CHATS_TABLE`` | required | chats, rooms of users, room directory (contract v2) |
| ``CHATSTACK_JWT_SECRET`` | — | login, $connect (local stage, tests) |
| ``CHATSTACK_JWT_SECRET_PARAM`` | — | login, $connect on AWS: SSM SecureString name |
| ``CHATSTACK_JWT_SECRET_VERSION`` | — | login, $connect on AWS: the key's version (rotation) |
| ``CHATSTACK_TOKEN_TTL_SECONDS`` | 86400 | login |
| ``CHATSTACK_BCRYPT_ROUNDS`` | 12 (minimum 10) | signup |
| ``CHATSTACK_MANAGEMENT_URL`` | — | broadcaster: ``https://{api}.execute-api…/{stage}`` |
| ``CHATSTACK_CORS_ORIGIN`` | ``*`` | signup, login |
| ``CHATSTACK_CONNECTION_TTL_SECONDS`` | 86400 | $connect, joinRoom |
| ``CHATSTACK_MAX_ROOMS`` | 50 | joinRoom: rooms per user (and per connection) |
| ``CHATSTACK_MAX_GROUP_PARTICIPANTS`` | 50 (2-99) | POST /chats, adding participants |
| ``CHATSTACK_DEDUPE_TTL_SECONDS`` | 86400 | sendMessage (``clientMessageId`` window) |
| ``CHATSTACK_DELIVERY`` | ``signed`` | broadcaster, fanout_shard: ``signed`` (SigV4) or ``boto3`` |
| ``CHATSTACK_FANOUT_FUNCTION`` | — | broadcaster, fanout_shard: where shards go (unset: none) |
| ``CHATSTACK_SHARD_THRESHOLD`` | 500 | broadcaster: more recipients than this are sharded |
| ``CHATSTACK_SHARD_SIZE`` | 250 | broadcaster: recipients per shard (at most) |
| ``CHATSTACK_SHARD_ATTEMPTS`` | 3 | fanout_shard: delivery attempts per recipient (retry shards) |
| ``CHATSTACK_RECEIPTS_FANOUT_MAX`` | 20 (2-99) | receipts, presence: largest chat told live |
| ``CHATSTACK_TYPING_INTERVAL_MS`` | 2000 (100-60000) | typing: one per state, user, chat |
| ``CHATSTACK_PRESENCE_MAX_CHATS`` | 50 (1-500) | $connect, $disconnect: chats told |
| ``CHATSTACK_MEDIA_BUCKET`` | — | POST /upload-url, sendMessage, getAttachmentUrl |
| ``CHATSTACK_MEDIA_CONTENT_TYPES`` | images, PDF, text | POST /upload-url: accepted types |
| ``CHATSTACK_MEDIA_MAX_BYTES`` | 10485760 (10 MiB) | POST /upload-url: the largest file |
| ``CHATSTACK_MEDIA_UPLOAD_TTL_SECONDS`` | 300 (1-900) | POST /upload-url: an upload URL's life |
| ``CHATSTACK_MEDIA_DOWNLOAD_TTL_SECONDS`` | 300 (1-900) | getAttachmentUrl: a download URL's life |
| ``CHATSTACK_MEDIA_DOWNLOAD_URL`` | — | getAttachmentUrl: the media CDN downloads go through |

Chats of at most ``RECEIPTS_FANOUT_MAX`` participants get receipt frames (larger ones: counts
on request), and presence goes to the participants of such groups; presence goes to the
partners of a user's ``PRESENCE_MAX_CHATS`` most recent chats.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from lambdas.contract.errors import ConfigurationError
from lambdas.contract.media import (
    DEFAULT_CONTENT_TYPES,
    DEFAULT_MAX_BYTES,
    MediaPolicy,
    parse_content_types,
)

__all__ = ["MAX_MEDIA_URL_TTL_SECONDS", "MIN_BCRYPT_ROUNDS", "Settings"]

MIN_BCRYPT_ROUNDS = 10


def _int(
    env: Mapping[str, str], name: str, default: int, minimum: int = 1, maximum: int | None = None
) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{name} must be at most {maximum}, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name) or choices[0]
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _content_types(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name)
    if not raw:
        return DEFAULT_CONTENT_TYPES
    try:
        return parse_content_types(raw.split(","))
    except ValueError as exc:
        raise ConfigurationError(f"{name}: {exc}") from None


# A presigned URL is a bearer credential: the contract lets it live a few minutes at most.
MAX_MEDIA_URL_TTL_SECONDS = 900


@dataclass(frozen=True)
class Settings:
    users_table: str = ""
    messages_table: str = ""
    connections_table: str = ""
    chats_table: str = ""
    jwt_secret: str | None = None
    jwt_secret_param: str | None = None
    jwt_secret_version: str | None = None
    token_ttl_seconds: int = 86400
    bcrypt_rounds: int = 12
    management_url: str | None = None
    cors_origin: str = "*"
    connection_ttl_seconds: int = 86400
    max_rooms: int = 50
    max_group_participants: int = 50
    dedupe_ttl_seconds: int = 86400
    delivery: str = "signed"
    fanout_function: str | None = None
    shard_threshold: int = 500
    shard_size: int = 250
    shard_attempts: int = 3
    receipts_fanout_max: int = 20
    typing_interval_ms: int = 2000
    presence_max_chats: int = 50
    media_bucket: str = ""
    media_content_types: tuple[str, ...] = DEFAULT_CONTENT_TYPES
    media_max_bytes: int = DEFAULT_MAX_BYTES
    media_upload_ttl_seconds: int = 300
    media_download_ttl_seconds: int = 300
    media_download_url: str | None = None

    @property
    def media_policy(self) -> MediaPolicy:
        return MediaPolicy(self.media_content_types, self.media_max_bytes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: ``os.environ``).

        Raises:
            ConfigurationError: a value is malformed or below its minimum.
        """
        env = os.environ if env is None else env
        return cls(
            users_table=env.get("CHATSTACK_USERS_TABLE", ""),
            messages_table=env.get("CHATSTACK_MESSAGES_TABLE", ""),
            connections_table=env.get("CHATSTACK_CONNECTIONS_TABLE", ""),
            chats_table=env.get("CHATSTACK_CHATS_TABLE", ""),
            jwt_secret=env.get("CHATSTACK_JWT_SECRET") or None,
            jwt_secret_param=env.get("CHATSTACK_JWT_SECRET_PARAM") or None,
            jwt_secret_version=env.get("CHATSTACK_JWT_SECRET_VERSION") or None,
            token_ttl_seconds=_int(env, "CHATSTACK_TOKEN_TTL_SECONDS", 86400),
            bcrypt_rounds=_int(
                env, "CHATSTACK_BCRYPT_ROUNDS", 12, minimum=MIN_BCRYPT_ROUNDS, maximum=31
            ),
            management_url=env.get("CHATSTACK_MANAGEMENT_URL") or None,
            cors_origin=env.get("CHATSTACK_CORS_ORIGIN") or "*",
            connection_ttl_seconds=_int(env, "CHATSTACK_CONNECTION_TTL_SECONDS", 86400),
            max_rooms=_int(env, "CHATSTACK_MAX_ROOMS", 50),
            # A group is created (and grown) by one transaction: at most 100 items, one the chat.
            max_group_participants=_int(
                env, "CHATSTACK_MAX_GROUP_PARTICIPANTS", 50, minimum=2, maximum=99
            ),
            dedupe_ttl_seconds=_int(env, "CHATSTACK_DEDUPE_TTL_SECONDS", 86400),
            delivery=_choice(env, "CHATSTACK_DELIVERY", ("signed", "boto3")),
            fanout_function=env.get("CHATSTACK_FANOUT_FUNCTION") or None,
            shard_threshold=_int(env, "CHATSTACK_SHARD_THRESHOLD", 500),
            shard_size=_int(env, "CHATSTACK_SHARD_SIZE", 250),
            shard_attempts=_int(env, "CHATSTACK_SHARD_ATTEMPTS", 3, maximum=10),
            receipts_fanout_max=_int(
                env, "CHATSTACK_RECEIPTS_FANOUT_MAX", 20, minimum=2, maximum=99
            ),
            typing_interval_ms=_int(
                env, "CHATSTACK_TYPING_INTERVAL_MS", 2000, minimum=100, maximum=60000
            ),
            presence_max_chats=_int(env, "CHATSTACK_PRESENCE_MAX_CHATS", 50, maximum=500),
            media_bucket=env.get("CHATSTACK_MEDIA_BUCKET", ""),
            media_content_types=_content_types(env, "CHATSTACK_MEDIA_CONTENT_TYPES"),
            media_max_bytes=_int(env, "CHATSTACK_MEDIA_MAX_BYTES", DEFAULT_MAX_BYTES),
            media_upload_ttl_seconds=_int(
                env, "CHATSTACK_MEDIA_UPLOAD_TTL_SECONDS", 300, maximum=MAX_MEDIA_URL_TTL_SECONDS
            ),
            media_download_ttl_seconds=_int(
                env, "CHATSTACK_MEDIA_DOWNLOAD_TTL_SECONDS", 300, maximum=MAX_MEDIA_URL_TTL_SECONDS
            ),
            media_download_url=env.get("CHATSTACK_MEDIA_DOWNLOAD_URL") or None,
        )

    def require(self, *names: str) -> None:
        """Fail at cold start, naming the variable, when a needed setting is unset."""
        for name in names:
            if not getattr(self, name):
                raise ConfigurationError(f"CHATSTACK_{name.upper()} is not set")
