"""Media in S3: presigned uploads, checks of what a message attaches, short-lived downloads.

An upload is a presigned POST whose policy S3 itself enforces: exactly one key under the
uploader's prefix, the declared content type, the declared size, a few minutes' validity, and
the tag ``chatstack-state=pending``. A lifecycle rule (``stack.json``, ``buckets.media``)
deletes pending objects a day later; attaching an upload to a message re-tags it ``attached``,
so only uploads nobody sent expire. Downloads are presigned GETs (through the stage's media CDN
on AWS, whose response headers policy adds ``nosniff``) that make non-images attachments.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from botocore.exceptions import ClientError

from lambdas.contract.errors import AttachmentMismatch, AttachmentNotFound
from lambdas.contract.media import (
    Attachment,
    MediaPolicy,
    UploadRequest,
    content_disposition,
    owner_prefix,
    upload_key,
)

__all__ = [
    "ATTACHED",
    "PENDING",
    "STATE_TAG",
    "MediaStore",
    "PresignedUpload",
    "tagging_xml",
]

# The tag the lifecycle rule of stack.json matches (``pending``) and what attaching sets.
STATE_TAG = "chatstack-state"
PENDING = "pending"
ATTACHED = "attached"


def tagging_xml(tags: dict[str, str]) -> str:
    """S3's ``Tagging`` document, as a POST upload's ``tagging`` field carries it."""
    inner = "".join(f"<Tag><Key>{k}</Key><Value>{v}</Value></Tag>" for k, v in tags.items())
    return f"<Tagging><TagSet>{inner}</TagSet></Tagging>"


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how to upload one file: POST ``fields`` and then ``file`` to ``url``."""

    key: str
    url: str
    fields: dict[str, str]
    expires_at: int  # epoch milliseconds

    def to_wire(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "url": self.url,
            "method": "POST",
            "fields": self.fields,
            "expiresAt": self.expires_at,
        }


class MediaStore:
    """One media bucket, over a boto3 S3 client (SigV4) passed in.

    ``download_base``: the scheme and host downloads are served from (the media CDN on AWS,
    which passes the presigned query to the bucket); None serves them from S3 itself.
    """

    def __init__(
        self,
        s3: Any,
        bucket: str,
        content_types: tuple[str, ...],
        max_bytes: int,
        upload_ttl_seconds: int,
        download_ttl_seconds: int,
        download_base: str | None = None,
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._content_types = content_types
        self._max_bytes = max_bytes
        self._upload_ttl = upload_ttl_seconds
        self._download_ttl = download_ttl_seconds
        self._download_base = download_base

    @property
    def policy(self) -> MediaPolicy:
        """What the stage accepts: the content types and the largest file."""
        return MediaPolicy(self._content_types, self._max_bytes)

    def presign_upload(self, user_id: str, request: UploadRequest) -> PresignedUpload:
        """A presigned POST for one new object of ``user_id`` holding exactly what
        ``request`` declares."""
        key = upload_key(user_id, uuid.uuid4().hex)
        tagging = tagging_xml({STATE_TAG: PENDING})
        # S3 counts from the signing time's whole second: never announce a later expiry.
        expires_at = (int(time.time()) + self._upload_ttl) * 1000
        post = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": request.content_type, "tagging": tagging},
            Conditions=[
                {"Content-Type": request.content_type},
                {"tagging": tagging},
                ["content-length-range", request.size, request.size],
            ],
            ExpiresIn=self._upload_ttl,
        )
        return PresignedUpload(key, post["url"], dict(post["fields"]), expires_at)

    def check(self, user_id: str, attachments: tuple[Attachment, ...]) -> None:
        """Each attachment is an upload of ``user_id`` holding what it declares.

        Raises:
            AttachmentNotFound: not under the user's prefix, or no such object (one answer
                for both: another user's uploads are not to be probed).
            AttachmentMismatch: the object's content type or size differ from the declared.
        """
        prefix = owner_prefix(user_id)
        for index, attachment in enumerate(attachments):
            where = f"attachments[{index}]"
            if not attachment.key.startswith(prefix):
                raise AttachmentNotFound(f"{where}: no such upload of yours", field="attachments")
            try:
                head = self._s3.head_object(Bucket=self._bucket, Key=attachment.key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    raise AttachmentNotFound(
                        f"{where}: no such upload of yours", field="attachments"
                    ) from None
                raise
            stored_type = str(head.get("ContentType", "")).split(";")[0].strip().lower()
            stored_size = int(head.get("ContentLength", -1))
            if (stored_type, stored_size) != (attachment.content_type, attachment.size):
                raise AttachmentMismatch(
                    f"{where}: the upload is {stored_size} bytes of {stored_type or 'no type'}, "
                    f"not {attachment.size} bytes of {attachment.content_type}",
                    field="attachments",
                )

    def mark_attached(self, attachments: tuple[Attachment, ...]) -> None:
        """Take the uploads out of the lifecycle rule's reach: they belong to a message now."""
        for attachment in attachments:
            self._s3.put_object_tagging(
                Bucket=self._bucket,
                Key=attachment.key,
                Tagging={"TagSet": [{"Key": STATE_TAG, "Value": ATTACHED}]},
            )

    def download_url(self, attachment: Attachment) -> tuple[str, int]:
        """A URL that reads the file until the returned time (epoch ms): a raster image
        inline, anything else as an attachment named as declared, with its declared type."""
        expires_at = (int(time.time()) + self._download_ttl) * 1000
        url = self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": attachment.key,
                "ResponseContentDisposition": content_disposition(attachment),
                "ResponseContentType": attachment.content_type,
            },
            ExpiresIn=self._download_ttl,
        )
        if self._download_base:
            base = urlsplit(self._download_base)
            signed = urlsplit(url)
            url = urlunsplit((base.scheme, base.netloc, signed.path, signed.query, ""))
        return url, expires_at
