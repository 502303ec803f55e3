#!/usr/bin/env bash
# Uploads the built SPA to an S3-compatible bucket (static-bucket deploy), each file with its
# Content-Type (application/wasm for the .wasm) and Cache-Control (a year, immutable, for the
# content-hashed JS/wasm/CSS; no-cache for index.html, the runtime config and anything else),
# index.html last.
#
#   deploy/upload-bucket.sh [DIST] [--put KEY=FILE ...]      DIST defaults to frontend/dist
#
# Environment:
#   S3_BUCKET                  the bucket (required)
#   S3_ENDPOINT                e.g. http://127.0.0.1:9000 for a local S3; unset = AWS
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (default us-east-1)
#   S3_PREFIX                  key prefix inside the bucket (default: the bucket root)
#   S3_CREATE_BUCKET=1         create the bucket when it does not exist
#   S3_PUBLIC_READ=1           bucket policy: anyone may GET objects (no listing, no writes),
#                              plus a website config with index.html as index and error page
#   S3_DELETE_STALE=1          delete objects that are not in this bundle (off by default:
#                              open tabs of the previous version still load its hashed files)
# --put KEY=FILE uploads FILE under KEY instead of the bundle's own file, e.g. a runtime
# config that points the SPA at the API's origin.
#
# Uses boto3 from the machine's python3 when importable, else installs it into a private venv
# under target/ (see deploy/python-env.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
# shellcheck source=deploy/python-env.sh
source "$here/python-env.sh"
py="$(python_with boto3 'boto3>=1.34,<2')"
exec "$py" "$here/upload_bucket.py" "$@"
