"""The local stage's S3 endpoint: moto's S3 behind the checks moto leaves out.

Every S3 request of the stage — the browser's uploads and downloads, the functions' own calls —
comes here (``AWS_ENDPOINT_URL_S3``), path-style (``/{bucket}/{key}``), and goes on to moto's
server only when S3 would serve it:

- a **presigned URL** (``X-Amz-Signature`` in the query) when its signature, recomputed, matches
  and it has not expired (``s3_auth.verify_presigned``); its answer to a GET or HEAD carries the
  headers the AWS stage's media CDN adds (its response headers policy): ``nosniff`` and a
  sandboxing ``Content-Security-Policy``;
- a **POST upload** (``multipart/form-data`` to ``/{bucket}``) when its policy holds
  (``s3_auth.verify_post``): the file is stored with a PUT, with its ``Content-Type``, its
  ``tagging`` (moto ignores that form field) and its metadata;
- an **API call** signed in its ``Authorization`` header with the stage's key (the key is
  checked, the signature is not recomputed — as the stage's ``@connections``);
- a **CORS preflight**, answered from the bucket's CORS configuration (read from moto): S3's
  rules, not moto's (which answers every origin).

Anything else — an anonymous read above all — is refused as a private bucket refuses it:
403 ``AccessDenied``. Answers carry the bucket's CORS headers for an allowed ``Origin``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web

from reference_stack.local.logs import log_event
from reference_stack.local.s3_auth import (
    Credentials,
    S3Refusal,
    content_length_limit,
    verify_post,
    verify_presigned,
)
from reference_stack.local.s3_cors import actual_headers, preflight_headers

__all__ = ["DELIVERY_HEADERS", "S3Front"]

# What the AWS stage's media CDN adds to every download (its response headers policy): the
# browser takes the declared type as it is, and a file opened on its own runs nothing.
DELIVERY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
# A POST whose policy sets no content-length-range is still read only this far.
UNBOUNDED_POST_BYTES = 64 * 1024 * 1024
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "host",
    "content-length",
    "server",
    "date",
}
_CORS_CACHE_SECONDS = 2.0


def _error(refusal: S3Refusal, extra: dict[str, str] | None = None) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(refusal.code)}</Code><Message>{escape(refusal.message)}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    )
    return web.Response(
        status=refusal.status, text=body, content_type="application/xml", headers=extra or {}
    )


def _access_key(authorization: str) -> str | None:
    """The access key of a SigV4 ``Authorization`` header."""
    for part in authorization.replace(",", " ").split():
        if part.startswith("Credential="):
            return part[len("Credential=") :].split("/")[0]
    return None


class S3Front:
    """An aiohttp application in front of moto's S3 at ``backend_url``.

    ``cors_rules(bucket)`` reads a bucket's CORS rules (blocking; run in a thread, cached).
    """

    def __init__(
        self,
        backend_url: str,
        credentials: Credentials,
        cors_rules: Callable[[str], list[dict[str, Any]]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._backend = backend_url.rstrip("/")
        self._credentials = credentials
        self._cors_rules = cors_rules
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._cors: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=UNBOUNDED_POST_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def _rules(self, bucket: str) -> list[dict[str, Any]]:
        cached = self._cors.get(bucket)
        now = time.monotonic()
        if cached is not None and now - cached[0] < _CORS_CACHE_SECONDS:
            return cached[1]
        rules = await asyncio.to_thread(self._cors_rules, bucket)
        self._cors[bucket] = (now, rules)
        return rules

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path, _, query = request.raw_path.partition("?")
        bucket, _, key = path.lstrip("/").partition("/")
        origin = request.headers.get("Origin")
        try:
            if request.method == "OPTIONS":
                return await self._preflight(request, bucket)
            answer = await self._serve(request, path, query, bucket, key)
        except S3Refusal as refusal:
            log_event(
                "S3 request refused",
                method=request.method,
                path=path,
                status=refusal.status,
                code=refusal.code,
                reason=refusal.message,
            )
            answer = _error(refusal)
        if origin and bucket:
            for name, value in (await self._rules_headers(bucket, origin, request.method)).items():
                answer.headers[name] = value
        return answer

    async def _rules_headers(self, bucket: str, origin: str, method: str) -> dict[str, str]:
        try:
            rules = await self._rules(bucket)
        except Exception:  # no such bucket: no CORS
            return {}
        return actual_headers(rules, origin, method)

    async def _preflight(self, request: web.Request, bucket: str) -> web.Response:
        origin = request.headers.get("Origin")
        method = request.headers.get("Access-Control-Request-Method")
        if not origin or not method:
            raise S3Refusal(
                400, "BadRequest", "Insufficient information. Origin request header needed."
            )
        try:
            rules = await self._rules(bucket)
        except Exception:
            rules = []
        headers = preflight_headers(
            rules, origin, method, request.headers.get("Access-Control-Request-Headers")
        )
        if headers is None:
            raise S3Refusal(
                403, "AccessForbidden", "CORSResponse: This CORS request is not allowed."
            )
        return web.Response(status=200, headers=headers)

    async def _serve(
        self, request: web.Request, path: str, query: str, bucket: str, key: str
    ) -> web.Response:
        now = self._clock()
        if "X-Amz-Signature=" in query:
            verify_presigned(request.method, path, query, request.headers, self._credentials, now)
            answer = await self._forward(request)
            if request.method in ("GET", "HEAD"):
                answer.headers.update(DELIVERY_HEADERS)
            return answer
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("AWS4-HMAC-SHA256 "):
            self._credentials.secret(
                _access_key(authorization) or "", request.headers.get("X-Amz-Security-Token")
            )
            return await self._forward(request)
        content_type = request.headers.get("Content-Type", "")
        if (
            request.method == "POST"
            and bucket
            and not key
            and "multipart/form-data" in content_type
        ):
            return await self._post_upload(request, bucket)
        raise S3Refusal(403, "AccessDenied", "Access Denied")

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        return self._session

    async def _forward(self, request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        async with self._client().request(
            request.method,
            self._backend + request.raw_path,
            headers=headers,
            data=body or None,
            allow_redirects=False,
            skip_auto_headers=("Content-Type", "User-Agent"),
        ) as answer:
            data = await answer.read()
            kept = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in _HOP_BY_HOP and not k.lower().startswith("access-control-")
            }
        if request.method == "HEAD":  # no body, but the object's length
            length = answer.headers.get("Content-Length")
            if length is not None:
                kept["Content-Length"] = length
            return web.Response(status=answer.status, headers=kept)
        return web.Response(status=answer.status, body=data, headers=kept)

    async def _post_upload(self, request: web.Request, bucket: str) -> web.Response:
        """S3's "POST Object": fields first, the file last; the policy decides."""
        reader = await request.multipart()
        fields: dict[str, str] = {}
        data = b""
        size = -1
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader):
                raise S3Refusal(400, "MalformedPOSTRequest", "Nested multipart is not supported.")
            name = part.name or ""
            if name.lower() != "file":
                fields[name] = await part.text()
                continue
            limit = content_length_limit(
                next((v for k, v in fields.items() if k.lower() == "policy"), "")
            )
            cap = limit[1] if limit else UNBOUNDED_POST_BYTES
            size, chunks = 0, []
            while chunk := await part.read_chunk(256 * 1024):
                size += len(chunk)
                if size <= cap:
                    chunks.append(chunk)  # past the cap the rest is read and dropped
            data = b"".join(chunks)
            break  # S3 ignores the fields after the file
        if size < 0:
            raise S3Refusal(
                400, "InvalidArgument", "Bucket POST must contain a field named 'file'."
            )
        upload = verify_post(fields, bucket, size, self._credentials, self._clock())
        headers = {"Content-Type": upload.content_type, **upload.headers}
        if upload.tags:
            headers["x-amz-tagging"] = urlencode(upload.tags)
        async with self._client().put(
            f"{self._backend}/{bucket}/{quote(upload.key, safe='/~')}", data=data, headers=headers
        ) as stored:
            await stored.read()
            if stored.status != 200:
                raise S3Refusal(stored.status, "InternalError", "The upload could not be stored.")
            etag = stored.headers.get("ETag", "")
        location = f"{request.scheme}://{request.host}/{bucket}/{quote(upload.key, safe='/~')}"
        answer_headers = {"ETag": etag, "Location": location}
        log_event("S3 upload stored", bucket=bucket, key=upload.key, bytes=size)
        if upload.success_status == 201:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
                f"<Location>{escape(location)}</Location><Bucket>{escape(bucket)}</Bucket>"
                f"<Key>{escape(upload.key)}</Key><ETag>{escape(etag)}</ETag></PostResponse>"
            )
            return web.Response(
                status=201, text=body, content_type="application/xml", headers=answer_headers
            )
        return web.Response(status=upload.success_status, headers=answer_headers)
