"""Upload the built front end (``frontend/dist``) to a deployed stage's web bucket.

    python -m reference_stack.web_upload --bucket BUCKET frontend/dist

Every file is put with its content type; Vite's fingerprinted ``assets/`` are cached for a year,
everything else (``index.html`` first of all) is revalidated on each visit, so a new deployment
shows at once without a CloudFront invalidation. Objects the build no longer has are deleted.
``config.json`` belongs to Terraform (it holds the API URLs) and is never touched.
"""

from __future__ import annotations

import argparse
import mimetypes
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

__all__ = ["UploadReport", "cache_control", "content_type", "main", "upload"]

RUNTIME_CONFIG = "config.json"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
    ".map": "application/json",
}


@dataclass
class UploadReport:
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def content_type(key: str) -> str:
    """The Content-Type to serve ``key`` with."""
    suffix = Path(key).suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"


def cache_control(key: str) -> str:
    """Fingerprinted build output is immutable; everything else is revalidated."""
    return IMMUTABLE if key.startswith("assets/") else REVALIDATE


def upload(s3: Any, bucket: str, dist: Path, delete: bool = True) -> UploadReport:
    """Put every file of ``dist`` into ``bucket``; delete what the build no longer has.

    Raises:
        FileNotFoundError: ``dist`` has no ``index.html`` (not a built front end).
    """
    if not (dist / "index.html").is_file():
        raise FileNotFoundError(f"{dist} has no index.html: build the front end first")
    report = UploadReport()
    keys = sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file())
    for key in keys:
        if key == RUNTIME_CONFIG:
            continue
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=(dist / key).read_bytes(),
            ContentType=content_type(key),
            CacheControl=cache_control(key),
        )
        report.uploaded.append(key)
    if delete:
        wanted = set(keys) | {RUNTIME_CONFIG}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                if item["Key"] not in wanted:
                    s3.delete_object(Bucket=bucket, Key=item["Key"])
                    report.deleted.append(item["Key"])
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference_stack.web_upload", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("dist", type=Path, help="the built front end (frontend/dist)")
    parser.add_argument("--bucket", required=True, help="terraform output -raw web_bucket")
    parser.add_argument("--region", default=None, help="the stage's region")
    parser.add_argument("--keep", action="store_true", help="do not delete stale objects")
    args = parser.parse_args(argv)
    try:
        report = upload(
            boto3.client("s3", region_name=args.region), args.bucket, args.dist, not args.keep
        )
    except FileNotFoundError as error:
        print(f"web_upload: {error}", file=sys.stderr)
        return 1
    print(
        f"uploaded {len(report.uploaded)} files to s3://{args.bucket}, "
        f"deleted {len(report.deleted)} stale ones"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
