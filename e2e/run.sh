#!/usr/bin/env bash
# The browser end-to-end test: headless Chromium (Debian's) drives the release web bundle served
# by the real chat-server on a temporary SQLite database. Builds what is missing first.
#   CHAT_SERVER_BIN  server binary to test (default: target/release/chat-server, built if missing)
# Screenshots: target/screenshots/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

if [[ ! -x /usr/bin/chromium ]]; then
    bash scripts/frontend-tools.sh
fi
if [[ ! -f frontend/dist/index.html ]]; then
    bash scripts/build-frontend.sh
fi
export CHAT_SERVER_BIN="${CHAT_SERVER_BIN:-$ROOT/target/release/chat-server}"
if [[ ! -x "$CHAT_SERVER_BIN" ]]; then
    cargo build --release -p backend --locked
fi

cd e2e
if [[ ! -d node_modules/playwright-core ]]; then
    npm ci --no-audit --no-fund
fi
exec node --test --test-concurrency=1 tests/
