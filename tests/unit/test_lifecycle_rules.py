"""The media bucket's lifecycle rules: one definition (stack.json) for the local stage and the
Terraform, matching what the functions tag (reference_stack/local/lifecycle.py)."""

from __future__ import annotations

from lambdas.domain.media import PENDING, STATE_TAG
from reference_stack.definition import load
from reference_stack.local.lifecycle import rule_matches

BUCKET = load().buckets["media"]
RULES = BUCKET.lifecycle_configuration()["Rules"]
KEY = "uploads/u-1/0123456789abcdef0123456789abcdef"


def rule(rule_id: str) -> dict:
    return next(r for r in RULES if r["ID"] == rule_id)


def test_unattached_uploads_expire_after_a_day():
    """The expiry rule covers uploads still tagged as the upload policy tags them, a day on."""
    expire = rule("expire-unattached-uploads")
    assert expire["Expiration"] == {"Days": 1}
    assert rule_matches(expire, KEY, {STATE_TAG: PENDING})


def test_attached_and_untagged_objects_are_kept():
    """Re-tagged (attached) or untagged objects never expire (only uploads carry the tag)."""
    expire = rule("expire-unattached-uploads")
    assert expire["Filter"] == {"Tag": {"Key": STATE_TAG, "Value": PENDING}}
    assert not rule_matches(expire, KEY, {STATE_TAG: "attached"})
    assert not rule_matches(expire, KEY, {})


def test_incomplete_multipart_uploads_are_aborted_after_a_day():
    """Every key: an abandoned multipart upload costs storage until aborted."""
    abort = rule("abort-incomplete-multipart-uploads")
    assert abort["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rule_matches(abort, "anything", {})


def test_a_disabled_rule_matches_nothing():
    """Only enabled rules act."""
    assert not rule_matches(
        {**rule("abort-incomplete-multipart-uploads"), "Status": "Disabled"}, "k", {}
    )


def test_the_rule_filters_take_s3s_three_shapes():
    """Prefix alone, one Tag alone, or And of both — as S3 returns them."""
    assert rule_matches(
        {"Status": "Enabled", "Filter": {"Tag": {"Key": "a", "Value": "b"}}}, "x", {"a": "b"}
    )
    assert not rule_matches({"Status": "Enabled", "Filter": {"Prefix": "p/"}}, "x", {})
    assert rule_matches({"Status": "Enabled", "Prefix": "p/"}, "p/x", {})
