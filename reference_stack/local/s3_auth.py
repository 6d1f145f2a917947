"""What S3 checks before it serves a browser, and moto (5.2.5) does not. Pure code.

moto stores whatever a presigned POST carries — another content type, another size, another
key, after the policy expired, with a forged signature — and serves a presigned GET after its
expiry or with any signature. The local stage's S3 endpoint (``s3_front``) runs these checks in
front of moto, as AWS's S3 does (Signature Version 4, "Authenticating Requests: Using Query
Parameters" and "Browser-Based Uploads Using POST"):

- ``verify_presigned``: the signature of a presigned URL, recomputed from the request, and its
  expiry (``X-Amz-Date`` + ``X-Amz-Expires``);
- ``verify_post``: a POST upload's policy — its signature, its expiration, every condition
  (``eq``, ``starts-with``, ``content-length-range``, ``{"field": value}``) and that no form
  field escapes them.

Either refuses with ``S3Refusal`` (status, S3's error code, message).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

__all__ = [
    "Credentials",
    "PostUpload",
    "S3Refusal",
    "content_length_limit",
    "signing_key",
    "verify_post",
    "verify_presigned",
]

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_PRESIGN_SECONDS = 604800  # S3's limit: 7 days
# Form fields no policy condition needs to name (S3: "Browser-Based Uploads Using POST").
_FREE_FIELDS = {"x-amz-signature", "file", "policy"}
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")


class S3Refusal(Exception):
    """S3's answer to a request it does not serve: an HTTP status and an error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Credentials:
    """The keys S3 knows: access key → (secret key, session token or None)."""

    keys: Mapping[str, tuple[str, str | None]]

    def secret(self, access_key: str, token: str | None) -> str:
        if access_key not in self.keys:
            raise S3Refusal(
                403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist."
            )
        secret, expected_token = self.keys[access_key]
        if expected_token is not None and token != expected_token:
            raise S3Refusal(403, "InvalidToken", "The provided token is malformed or invalid.")
        return secret


@dataclass(frozen=True)
class PostUpload:
    """What an accepted POST upload stores."""

    key: str
    content_type: str
    tags: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)  # other metadata to store
    success_status: int = 204


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """SigV4's derived key for ``date`` (YYYYMMDD), ``region`` and ``service``."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _parse_amz_date(value: str) -> dt.datetime:
    if not _AMZ_DATE.fullmatch(value):
        raise S3Refusal(400, "AuthorizationQueryParametersError", "X-Amz-Date is malformed.")
    return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


def _credential(value: str, amz_date: str) -> tuple[str, str, str, str]:
    """(access key, date, region, service) of an ``X-Amz-Credential``, checked against the date."""
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or parts[3] != "s3":
        raise S3Refusal(400, "AuthorizationQueryParametersError", "X-Amz-Credential is malformed.")
    if parts[1] != amz_date[:8]:
        raise S3Refusal(
            400, "AuthorizationQueryParametersError", "X-Amz-Credential's date is not X-Amz-Date's."
        )
    return parts[0], parts[1], parts[2], parts[3]


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((_encode(k), _encode(v)) for k, v in pairs if k != "X-Amz-Signature")
    return "&".join(f"{k}={v}" for k, v in encoded)


def verify_presigned(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    credentials: Credentials,
    now: float,
) -> None:
    """Check a presigned URL (query-string SigV4) as S3 does.

    Raises:
        S3Refusal: a parameter missing or malformed (400), an unknown key (403), a signature
            that does not match (403 ``SignatureDoesNotMatch``), or an expired URL (403
            ``AccessDenied``, "Request has expired").
    """
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    query = dict(pairs)
    needed = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires")
    needed += ("X-Amz-SignedHeaders", "X-Amz-Signature")
    missing = [name for name in needed if name not in query]
    if missing:
        raise S3Refusal(
            400,
            "AuthorizationQueryParametersError",
            f"Query-string authentication requires {', '.join(missing)}.",
        )
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise S3Refusal(
            400, "AuthorizationQueryParametersError", "X-Amz-Algorithm is not supported."
        )
    amz_date = query["X-Amz-Date"]
    signed_at = _parse_amz_date(amz_date)
    access_key, date, region, service = _credential(query["X-Amz-Credential"], amz_date)
    try:
        expires = int(query["X-Amz-Expires"])
    except ValueError:
        expires = -1
    if not 1 <= expires <= MAX_PRESIGN_SECONDS:
        raise S3Refusal(
            400, "AuthorizationQueryParametersError", "X-Amz-Expires must be 1 to 604800 seconds."
        )
    secret = credentials.secret(access_key, query.get("X-Amz-Security-Token"))
    lowered = {name.lower(): value for name, value in headers.items()}
    signed_headers = query["X-Amz-SignedHeaders"].split(";")
    if "host" not in signed_headers:
        raise S3Refusal(400, "AuthorizationQueryParametersError", "The host header must be signed.")
    canonical_headers = "".join(
        f"{name}:{' '.join(lowered.get(name, '').split())}\n" for name in signed_headers
    )
    canonical_request = "\n".join(
        (
            method,
            quote(unquote(raw_path), safe="/-_.~"),
            _canonical_query(pairs),
            canonical_headers,
            query["X-Amz-SignedHeaders"],
            "UNSIGNED-PAYLOAD",
        )
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    to_sign = f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"
    expected = _hmac_hex(signing_key(secret, date, region, service), to_sign)
    if not hmac.compare_digest(expected, query["X-Amz-Signature"]):
        raise S3Refusal(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    if now > signed_at.timestamp() + expires:
        raise S3Refusal(403, "AccessDenied", "Request has expired")


# -- POST uploads ---------------------------------------------------------------------------


def _policy_failure(text: str) -> S3Refusal:
    return S3Refusal(403, "AccessDenied", f"Invalid according to Policy: {text}")


def _decode_policy(encoded: str) -> dict[str, Any]:
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise S3Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    if not isinstance(policy, dict) or not isinstance(policy.get("conditions"), list):
        raise S3Refusal(400, "InvalidPolicyDocument", "Invalid Policy: no conditions list.")
    if not isinstance(policy.get("expiration"), str):
        raise S3Refusal(400, "InvalidPolicyDocument", "Invalid Policy: no expiration.")
    return policy


def _expiration(policy: dict[str, Any]) -> float:
    try:
        return dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise S3Refusal(
            400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value."
        ) from None


def content_length_limit(encoded_policy: str) -> tuple[int, int] | None:
    """The ``content-length-range`` of a policy (to bound reading the file), if it has one."""
    try:
        conditions = _decode_policy(encoded_policy)["conditions"]
    except S3Refusal:
        return None
    for condition in conditions:
        if (
            isinstance(condition, list)
            and len(condition) == 3
            and str(condition[0]).lower() == "content-length-range"
        ):
            try:
                return int(condition[1]), int(condition[2])
            except (TypeError, ValueError):
                return None
    return None


def _check_condition(
    condition: Any, fields: Mapping[str, str], file_size: int, covered: set[str]
) -> None:
    """One policy condition against the form's fields (lower-case names, ``bucket`` included)."""
    if isinstance(condition, dict) and len(condition) == 1:
        name, value = next(iter(condition.items()))
        condition = ["eq", f"${name}", value]
    if not isinstance(condition, list) or len(condition) != 3:
        raise S3Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: condition {condition!r}.")
    operator = str(condition[0]).lower()
    if operator == "content-length-range":
        low, high = condition[1], condition[2]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            raise S3Refusal(400, "InvalidPolicyDocument", "Invalid Policy: content-length-range.")
        if file_size > high:
            raise S3Refusal(
                400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            )
        if file_size < low:
            raise S3Refusal(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
            )
        return
    target, expected = condition[1], condition[2]
    if operator not in ("eq", "starts-with") or not isinstance(target, str):
        raise S3Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: condition {condition!r}.")
    if not target.startswith("$") or not isinstance(expected, str):
        raise S3Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: condition {condition!r}.")
    name = target[1:].lower()
    covered.add(name)
    value = fields.get(name)
    if operator == "eq" and value != expected:
        raise _policy_failure(f'Policy Condition failed: ["eq", "{target}", "{expected}"]')
    if operator == "starts-with" and (
        (value is None and expected != "") or (value is not None and not value.startswith(expected))
    ):
        raise _policy_failure(f'Policy Condition failed: ["starts-with", "{target}", "{expected}"]')


def _tags(tagging: str | None) -> dict[str, str]:
    if not tagging:
        return {}
    found = re.findall(r"<Tag>\s*<Key>(.*?)</Key>\s*<Value>(.*?)</Value>\s*</Tag>", tagging)
    if not found and "<Tag>" in tagging:
        raise S3Refusal(400, "MalformedXML", "The tagging XML you provided was not well-formed.")
    return dict(found)


_STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "expires")


def verify_post(
    fields: Mapping[str, str],
    bucket: str,
    file_size: int,
    credentials: Credentials,
    now: float,
) -> PostUpload:
    """Check a POST upload's form (every field but ``file``) as S3 does; returns what to store.

    Raises:
        S3Refusal: a field missing (400), an unknown key (403), a signature that does not
            match (403 ``SignatureDoesNotMatch``), an expired policy (403), a condition that
            fails (403 ``AccessDenied``; the size: 400 ``EntityTooLarge`` / ``EntityTooSmall``),
            or a field no condition names (403 "Extra input fields").
    """
    lowered = {name.lower(): value for name, value in fields.items()}
    for name in ("key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date"):
        if name not in lowered:
            raise S3Refusal(
                400, "InvalidArgument", f"Bucket POST must contain a field named '{name}'."
            )
    if "x-amz-signature" not in lowered:
        raise S3Refusal(
            400, "InvalidArgument", "Bucket POST must contain a field named 'x-amz-signature'."
        )
    if lowered["x-amz-algorithm"] != ALGORITHM:
        raise S3Refusal(400, "InvalidArgument", "x-amz-algorithm is not supported.")
    amz_date = lowered["x-amz-date"]
    _parse_amz_date(amz_date)
    access_key, date, region, service = _credential(lowered["x-amz-credential"], amz_date)
    secret = credentials.secret(access_key, lowered.get("x-amz-security-token"))
    expected = _hmac_hex(signing_key(secret, date, region, service), lowered["policy"])
    if not hmac.compare_digest(expected, lowered["x-amz-signature"]):
        raise S3Refusal(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    policy = _decode_policy(lowered["policy"])
    if now > _expiration(policy):
        raise _policy_failure("Policy expired.")
    covered: set[str] = set()
    values = {**lowered, "bucket": bucket}
    for condition in policy["conditions"]:
        _check_condition(condition, values, file_size, covered)
    extra = [
        name
        for name in lowered
        if name not in covered and name not in _FREE_FIELDS and not name.startswith("x-ignore-")
    ]
    if extra:
        raise _policy_failure(f"Extra input fields: {', '.join(sorted(extra))}")
    status = lowered.get("success_action_status", "204")
    headers = {
        name: value
        for name, value in lowered.items()
        if name in _STORED_HEADERS or name.startswith("x-amz-meta-")
    }
    return PostUpload(
        key=lowered["key"],
        content_type=lowered.get("content-type", "binary/octet-stream"),
        tags=_tags(lowered.get("tagging")),
        headers=headers,
        success_status=int(status) if status in ("200", "201", "204") else 204,
    )
