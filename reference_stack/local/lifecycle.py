"""S3 lifecycle rules, applied by the stage: moto stores a bucket's lifecycle configuration but
never acts on it. The sweeper reads the configuration back from moto and applies each enabled
rule — ``Expiration`` of the objects its filter (prefix, tags) matches, and
``AbortIncompleteMultipartUpload`` — counting a rule's days in ``day_seconds`` (86,400 unless
the stage is started with a shorter day, to see a day's expiry in a test).

AWS rounds an expiry to the next midnight UTC and removes objects asynchronously (in practice
one to two days after the upload for a one-day rule); the stage removes them as soon as their
age passes the rule's days.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from reference_stack.local.logs import log_event

__all__ = ["rule_matches", "sweep_bucket", "sweep_forever"]


def _filter(rule: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """(prefix, tags) of a rule as S3 returns it (``Filter``: ``Prefix``, ``Tag`` or ``And``)."""
    found = rule.get("Filter") or {}
    if "And" in found:
        found = found["And"]
        tags = {t["Key"]: t["Value"] for t in found.get("Tags", [])}
        return found.get("Prefix", ""), tags
    if "Tag" in found:
        return "", {found["Tag"]["Key"]: found["Tag"]["Value"]}
    return found.get("Prefix", rule.get("Prefix", "")), {}


def rule_matches(rule: Mapping[str, Any], key: str, tags: Mapping[str, str]) -> bool:
    """Whether the enabled ``rule``'s filter covers the object ``key`` with ``tags``."""
    if rule.get("Status") != "Enabled":
        return False
    prefix, wanted = _filter(rule)
    return key.startswith(prefix) and all(tags.get(k) == v for k, v in wanted.items())


def _age_days(when: dt.datetime, now: dt.datetime, day_seconds: float) -> float:
    return (now - when).total_seconds() / day_seconds


def sweep_bucket(
    s3: Any,
    bucket: str,
    day_seconds: float,
    now: dt.datetime | None = None,
    seen: dict[str, dt.datetime] | None = None,
) -> dict:
    """Apply ``bucket``'s lifecycle rules once; returns what was deleted and aborted.

    ``seen`` remembers, across sweeps, when each multipart upload was first listed: moto
    reports a fixed ``Initiated`` (2010) for every upload, so an upload's age counts from the
    later of the two (a sweeper given no memory never aborts one).
    """
    now = now or dt.datetime.now(dt.UTC)
    seen = {} if seen is None else seen
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return {"expired": 0, "aborted": 0}
        raise
    expiring = [r for r in rules if r.get("Status") == "Enabled" and "Expiration" in r]
    aborting = [
        r for r in rules if r.get("Status") == "Enabled" and "AbortIncompleteMultipartUpload" in r
    ]
    expired = aborted = 0
    if expiring:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                key, age = entry["Key"], _age_days(entry["LastModified"], now, day_seconds)
                due = [r for r in expiring if age >= r["Expiration"].get("Days", 10**9)]
                if not due:
                    continue
                tags = {
                    t["Key"]: t["Value"]
                    for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
                }
                if any(rule_matches(r, key, tags) for r in due):
                    s3.delete_object(Bucket=bucket, Key=key)
                    expired += 1
    if aborting:
        uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        for upload in uploads:
            first_seen = seen.setdefault(upload["UploadId"], now)
            age = _age_days(max(upload["Initiated"], first_seen), now, day_seconds)
            for rule in aborting:
                days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
                if age >= days and rule_matches(rule, upload["Key"], {}):
                    s3.abort_multipart_upload(
                        Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
                    break
    return {"expired": expired, "aborted": aborted}


async def sweep_forever(s3: Any, buckets: list[str], day_seconds: float, interval: float) -> None:
    """Apply the lifecycle rules of ``buckets`` every ``interval`` seconds."""
    seen: dict[str, dt.datetime] = {}
    while True:
        await asyncio.sleep(interval)
        for bucket in buckets:
            try:
                done = await asyncio.to_thread(sweep_bucket, s3, bucket, day_seconds, None, seen)
            except Exception:
                log_event("lifecycle sweep failed", logging.ERROR, exc_info=True, bucket=bucket)
                continue
            if any(done.values()):
                log_event("lifecycle sweep", bucket=bucket, **done)
