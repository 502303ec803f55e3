#!/usr/bin/env python3
"""Uploads the built SPA (frontend/dist) to an S3-compatible bucket, each object with the
Content-Type and Cache-Control it must be served with. Run through deploy/upload-bucket.sh,
which finds (or installs) boto3; see that script for the settings.

Why boto3 and not `aws s3 sync`: sync guesses types from the local mimetypes table (which
lacks application/wasm on some systems) and cannot give index.html and the hashed assets
different Cache-Control in one pass; here every object gets both explicitly, in one process.
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Which files never change: the one rule of the repository (frontend/immutable-assets.md),
# shared with chat-server and nginx.
RULE = Path(__file__).resolve().parent.parent / "frontend" / "immutable-assets.regex"
HASHED = re.compile(RULE.read_text(encoding="utf-8").strip())
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".tsv": "text/tab-separated-values; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".webmanifest": "application/manifest+json",
}


def content_type(key: str) -> str:
    return TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


def cache_control(key: str) -> str:
    return IMMUTABLE if HASHED.search(key) else REVALIDATE


def encoded_body(path: Path):
    """The bytes to store for a file and their Content-Encoding: the build's gzip sibling when
    there is one (every browser accepts gzip, also over plain http, where Chrome does not
    offer br), else the file as it is."""
    sibling = path.with_name(path.name + ".gz")
    if sibling.is_file():
        return sibling, "gzip"
    return path, None


def upload_order(key: str) -> int:
    """Hashed assets first, index.html last: a visitor never gets an index.html that names
    files not yet in the bucket."""
    if key.endswith("index.html"):
        return 2
    return 0 if HASHED.search(key) else 1


def collect(dist: Path, overrides: dict) -> dict:
    files = {}
    for path in sorted(dist.rglob("*")):
        rel = path.relative_to(dist)
        # Build scratch (trunk's .stage) stays out, and so do the pre-compressed siblings as
        # objects of their own: a bucket cannot negotiate, so the .gz bytes go up under the
        # plain key instead (see `encoded_body`).
        if not path.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        if path.suffix in (".gz", ".br"):
            continue
        files[rel.as_posix()] = path
    for key, source in overrides.items():
        files[key] = Path(source)
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", nargs="?", default="frontend/dist")
    parser.add_argument(
        "--put",
        action="append",
        default=[],
        metavar="KEY=FILE",
        help="upload FILE as KEY instead of the bundle's own (e.g. the runtime config)",
    )
    args = parser.parse_args()

    bucket = os.environ.get("S3_BUCKET")
    if not bucket:
        print("upload-bucket: set S3_BUCKET", file=sys.stderr)
        return 2
    endpoint = os.environ.get("S3_ENDPOINT") or None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    prefix = os.environ.get("S3_PREFIX", "").strip("/")
    prefix = f"{prefix}/" if prefix else ""
    flag = lambda name: os.environ.get(name, "") in ("1", "true", "yes")

    dist = Path(args.dist)
    if not (dist / "index.html").is_file():
        print(f"upload-bucket: {dist}/index.html not found (build the bundle first)", file=sys.stderr)
        return 1
    overrides = {}
    for item in args.put:
        key, _, source = item.partition("=")
        if not key or not Path(source).is_file():
            print(f"upload-bucket: --put {item!r}: want KEY=FILE with an existing FILE", file=sys.stderr)
            return 2
        overrides[key] = source

    # Path-style addressing for custom endpoints (local servers, MinIO-likes); AWS decides.
    config = Config(s3={"addressing_style": "path"}) if endpoint else None
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, config=config)

    if flag("S3_CREATE_BUCKET"):
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:
            params = {"Bucket": bucket}
            if region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**params)
            print(f"created bucket {bucket}")

    if flag("S3_PUBLIC_READ"):
        # Anyone may read objects (the bundle is public anyway); nobody may list or write.
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicReadForTheChatSpa",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
                }
            ],
        }
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        try:
            s3.put_bucket_website(
                Bucket=bucket,
                WebsiteConfiguration={
                    "IndexDocument": {"Suffix": "index.html"},
                    # SPA routes: unknown keys answer with the app.
                    "ErrorDocument": {"Key": f"{prefix}index.html"},
                },
            )
        except ClientError as e:
            print(f"note: website configuration not supported here ({e})", file=sys.stderr)

    files = collect(dist, overrides)
    uploaded = set()
    for key in sorted(files, key=lambda k: (upload_order(k), k)):
        full_key = prefix + key
        ctype, cache = content_type(key), cache_control(key)
        source, encoding = encoded_body(files[key])
        extra = {"ContentEncoding": encoding} if encoding else {}
        with open(source, "rb") as body:
            s3.put_object(
                Bucket=bucket, Key=full_key, Body=body, ContentType=ctype, CacheControl=cache, **extra
            )
        uploaded.add(full_key)
        print(f"{full_key}\t{ctype}\t{cache}\t{encoding or 'identity'}")

    if flag("S3_DELETE_STALE"):
        # Off by default: tabs still open on the previous version fetch its hashed files.
        stale = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            stale += [o["Key"] for o in page.get("Contents", []) if o["Key"] not in uploaded]
        for key in stale:
            s3.delete_object(Bucket=bucket, Key=key)
            print(f"deleted {key}")

    where = endpoint or "AWS"
    print(f"uploaded {len(uploaded)} files to s3://{bucket}/{prefix} at {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
