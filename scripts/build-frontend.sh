#!/usr/bin/env bash
# Builds the release web bundle into frontend/dist without downloading anything at build time:
# the tools are installed first (when missing), crates are fetched, then trunk runs offline.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/frontend-tools.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

cargo fetch --locked
# A target folder of its own: the bundle then builds while a server build holds target/
# (scripts/run.sh overlaps the two), and neither evicts the other's artifacts.
export CARGO_TARGET_DIR="$PWD/target/wasm"
(cd frontend && trunk build --release --offline)

# Pre-compressed siblings (FILE.br, FILE.gz) of every compressible file: chat-server and
# nginx (brotli_static, gzip_static) send them as they are, so no request pays for
# compression, and the bucket upload stores the gzip one with Content-Encoding.
# Best levels: this runs once per build, and smaller bytes are what every visitor waits for.
for file in frontend/dist/*.wasm frontend/dist/*.js frontend/dist/*.mjs frontend/dist/*.css frontend/dist/*.tsv; do
    [[ -f "$file" ]] || continue
    gzip -9 -n -c "$file" >"$file.gz"
    brotli -q 11 -f -o "$file.br" "$file"
done

wasm="$(ls -1 frontend/dist/*.wasm | head -n1)"
raw=$(wc -c <"$wasm")
gz=$(wc -c <"$wasm.gz")
br=$(wc -c <"$wasm.br")
printf '[build-frontend] %s: %d bytes raw (%d KiB), %d gzip (%d KiB), %d brotli (%d KiB)\n' \
    "$(basename "$wasm")" "$raw" $((raw / 1024)) "$gz" $((gz / 1024)) "$br" $((br / 1024))
