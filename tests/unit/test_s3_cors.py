"""S3's CORS rules as the local stage's S3 endpoint evaluates them (reference_stack/local/
s3_cors.py): the web origin alone, with the methods the bucket allows."""

from __future__ import annotations

from reference_stack.definition import load
from reference_stack.local.s3_cors import actual_headers, preflight_headers

WEB = "http://127.0.0.1:8002"
RULES = load().buckets["media"].cors_configuration([WEB])["CORSRules"]


def test_the_web_origin_may_upload_with_any_header():
    """A preflight of the web app's POST (progress events force one) is allowed."""
    headers = preflight_headers(RULES, WEB, "POST", "content-type, x-requested-with")
    assert headers is not None
    assert headers["Access-Control-Allow-Origin"] == WEB
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == "content-type, x-requested-with"
    assert headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in headers["Vary"]


def test_other_origins_and_methods_are_refused():
    """Another origin, or a method outside the rule (DELETE, PUT), gets no CORS answer."""
    assert preflight_headers(RULES, "http://evil.example", "POST", None) is None
    assert preflight_headers(RULES, WEB, "DELETE", None) is None
    assert preflight_headers(RULES, WEB, "PUT", None) is None
    assert actual_headers(RULES, "http://evil.example", "GET") == {}


def test_actual_answers_to_the_web_origin_expose_the_etag():
    """A GET from the web origin carries its CORS headers, the ETag exposed."""
    headers = actual_headers(RULES, WEB, "GET")
    assert headers["Access-Control-Allow-Origin"] == WEB
    assert headers["Access-Control-Expose-Headers"] == "ETag"


def test_wildcards_match_as_s3_matches_them():
    """``*`` in an allowed origin matches any characters; a ``*`` origin answers ``*``; allowed
    headers may be patterns too."""
    rules = [
        {
            "AllowedOrigins": ["https://*.example.com"],
            "AllowedMethods": ["GET"],
            "AllowedHeaders": ["x-amz-*"],
        },
        {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
    ]
    assert preflight_headers(rules, "https://app.example.com", "GET", "x-amz-date") is not None
    assert preflight_headers(rules, "https://app.example.com", "GET", "authorization") is None
    assert preflight_headers(rules, "https://example.org", "GET", None) is None
    assert (
        actual_headers(rules, "https://anyone.test", "HEAD")["Access-Control-Allow-Origin"] == "*"
    )
