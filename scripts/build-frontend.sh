#!/usr/bin/env bash
# Builds the release web bundle into frontend/dist without downloading anything at build time:
# the tools are installed first (when missing), crates are fetched, then trunk runs offline.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/frontend-tools.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

cargo fetch --locked
(cd frontend && trunk build --release --offline)

wasm="$(ls -1 frontend/dist/*.wasm | head -n1)"
raw=$(wc -c <"$wasm")
gz=$(gzip -9c "$wasm" | wc -c)
printf '[build-frontend] %s: %d bytes raw (%d KiB), %d bytes gzipped (%d KiB)\n' \
    "$(basename "$wasm")" "$raw" $((raw / 1024)) "$gz" $((gz / 1024))
