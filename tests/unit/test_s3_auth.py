"""The checks the local stage's S3 endpoint makes and moto does not (reference_stack/local/
s3_auth.py), against URLs and forms signed by botocore — what S3 itself accepts."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from reference_stack.local.s3_auth import (
    Credentials,
    S3Refusal,
    content_length_limit,
    verify_post,
    verify_presigned,
)

ENDPOINT = "http://127.0.0.1:4510"
CREDENTIALS = Credentials({"local": ("local-secret", "local-token")})
KEY = "uploads/u-1/0123456789abcdef0123456789abcdef"
TAGGING = "<Tagging><TagSet><Tag><Key>state</Key><Value>pending</Value></Tag></TagSet></Tagging>"


@pytest.fixture(scope="module")
def s3():
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local-secret",
        aws_session_token="local-token",
        config=Config(signature_version="s3v4"),
    )


def presigned(s3, expires=60, **params):
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "media", "Key": KEY, **params}, ExpiresIn=expires
    )
    parts = urlsplit(url)
    return parts.path, parts.query


def check_url(path, query, method="GET", now=None, host="127.0.0.1:4510"):
    verify_presigned(method, path, query, {"Host": host}, CREDENTIALS, now or time.time())


def refusal(call) -> S3Refusal:
    with pytest.raises(S3Refusal) as caught:
        call()
    return caught.value


def test_a_presigned_get_is_accepted_until_it_expires(s3):
    """A URL botocore signed passes, with response overrides; a second after its expiry it is
    refused as S3 refuses it (403 AccessDenied, "Request has expired")."""
    path, query = presigned(s3, 60, ResponseContentDisposition='attachment; filename="a b.pdf"')
    check_url(path, query)
    signed_at = time.time()
    check_url(path, query, now=signed_at + 58)  # X-Amz-Date is whole seconds
    expired = refusal(lambda: check_url(path, query, now=signed_at + 62))
    assert (expired.status, expired.code, expired.message) == (
        403,
        "AccessDenied",
        "Request has expired",
    )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: q.replace("X-Amz-Expires=60", "X-Amz-Expires=6000"),
        lambda q: q.replace("inline", "attachment"),
        lambda q: q + "&extra=1",
        lambda q: q[:-3] + ("000" if not q.endswith("000") else "111"),
    ],
    ids=["longer-life", "other-disposition", "added-parameter", "forged-signature"],
)
def test_a_changed_url_no_longer_matches_its_signature(s3, tamper):
    """Any change to what was signed — its life, its overrides, a parameter — is refused."""
    path, query = presigned(s3, 60, ResponseContentDisposition="inline")
    error = refusal(lambda: check_url(path, tamper(query)))
    assert (error.status, error.code) == (403, "SignatureDoesNotMatch")


def test_another_key_method_or_host_is_refused(s3):
    """The signature covers the object's path, the method and the host."""
    path, query = presigned(s3)
    assert refusal(lambda: check_url(path[:-1] + "0", query)).code == "SignatureDoesNotMatch"
    assert refusal(lambda: check_url(path, query, method="DELETE")).code == "SignatureDoesNotMatch"
    assert refusal(lambda: check_url(path, query, host="evil:4510")).code == "SignatureDoesNotMatch"


def test_unknown_keys_and_tokens_are_refused(s3):
    """Credentials S3 does not know get 403 InvalidAccessKeyId / InvalidToken."""
    path, query = presigned(s3)
    other = Credentials({"someone": ("x", None)})
    error = refusal(lambda: verify_presigned("GET", path, query, {"Host": "h"}, other, time.time()))
    assert error.code == "InvalidAccessKeyId"
    wrong_token = Credentials({"local": ("local-secret", "other")})
    error = refusal(
        lambda: verify_presigned("GET", path, query, {"Host": "h"}, wrong_token, time.time())
    )
    assert error.code == "InvalidToken"


def test_missing_or_malformed_parameters_are_a_bad_request(s3):
    """A presigned URL without its parameters, or with a life over 7 days, is 400."""
    path, query = presigned(s3)
    stripped = "&".join(p for p in query.split("&") if not p.startswith("X-Amz-Date="))
    assert refusal(lambda: check_url(path, stripped)).status == 400
    week = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "media", "Key": KEY}, ExpiresIn=604801
    )
    assert refusal(lambda: check_url(urlsplit(week).path, urlsplit(week).query)).status == 400


# -- POST uploads --------------------------------------------------------------------------


def post_form(s3, size=5, content_type="image/png", expires=60):
    post = s3.generate_presigned_post(
        "media",
        KEY,
        Fields={"Content-Type": content_type, "tagging": TAGGING},
        Conditions=[
            {"Content-Type": content_type},
            {"tagging": TAGGING},
            ["content-length-range", size, size],
        ],
        ExpiresIn=expires,
    )
    return dict(post["fields"])


def test_a_post_within_its_policy_is_stored_with_its_type_and_tags(s3):
    """Type, tags and key come from the form; S3's default answer is 204."""
    upload = verify_post(post_form(s3), "media", 5, CREDENTIALS, time.time())
    assert (upload.key, upload.content_type, upload.tags, upload.success_status) == (
        KEY,
        "image/png",
        {"state": "pending"},
        204,
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"Content-Type": "text/html"}, "AccessDenied"),
        ({"key": KEY[:-1] + "0"}, "AccessDenied"),
        ({"tagging": TAGGING.replace("pending", "attached")}, "AccessDenied"),
        ({"x-amz-meta-owner": "me"}, "AccessDenied"),
        (
            {
                "policy": base64.b64encode(
                    b'{"expiration": "2099-01-01T00:00:00Z", "conditions": []}'
                ).decode()
            },
            "SignatureDoesNotMatch",
        ),
    ],
    ids=["other-type", "other-key", "other-tags", "extra-field", "rewritten-policy"],
)
def test_a_post_outside_its_policy_is_refused(s3, change, code):
    """Every field is bound by the policy, and the policy by its signature."""
    form = {**post_form(s3), **change}
    error = refusal(lambda: verify_post(form, "media", 5, CREDENTIALS, time.time()))
    assert (error.status, error.code) == (403, code)


def test_a_post_of_another_size_is_refused(s3):
    """content-length-range: a byte more is 400 EntityTooLarge, a byte less EntityTooSmall."""
    form = post_form(s3, size=5)
    assert refusal(lambda: verify_post(form, "media", 6, CREDENTIALS, time.time())).code == (
        "EntityTooLarge"
    )
    assert refusal(lambda: verify_post(form, "media", 4, CREDENTIALS, time.time())).code == (
        "EntityTooSmall"
    )
    assert content_length_limit(form["policy"]) == (5, 5)


def test_a_post_to_another_bucket_or_after_expiry_is_refused(s3):
    """The bucket is a condition; the policy's expiration is checked."""
    form = post_form(s3, expires=60)
    assert refusal(lambda: verify_post(form, "other", 5, CREDENTIALS, time.time())).status == 403
    late = refusal(lambda: verify_post(form, "media", 5, CREDENTIALS, time.time() + 120))
    assert "Policy expired" in late.message


def test_a_post_without_its_signature_fields_is_a_bad_request(s3):
    """No policy, no signature: 400 InvalidArgument."""
    form = post_form(s3)
    del form["x-amz-signature"]
    assert refusal(lambda: verify_post(form, "media", 5, CREDENTIALS, time.time())).status == 400


def test_a_policy_of_garbage_is_refused(s3):
    """A policy that is not base64 JSON is refused (after its signature, which fails first)."""
    form = {**post_form(s3), "policy": "%%%"}
    assert refusal(lambda: verify_post(form, "media", 5, CREDENTIALS, time.time())).status in (
        400,
        403,
    )
    assert content_length_limit("%%%") is None
    assert json.loads(base64.b64decode(post_form(s3)["policy"]))["conditions"]
