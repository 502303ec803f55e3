#!/usr/bin/env bash
# Builds the web app and the server (installing the tools that are missing) and starts the
# whole product on the embedded default: SQLite under ./data, http://127.0.0.1:8080.
# Any chat-server flag or CHAT_* variable can be passed through, e.g. scripts/run.sh --bind 0.0.0.0:8080
#
# On a fresh 2-core machine the first run takes about 11 minutes (see the README); every
# later one takes seconds. Each step says what it does and roughly how long it takes.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
step() { printf '\n[run] %s\n' "$*"; }
took() { printf '[run] ... done in %ds\n' "$((SECONDS - $1))"; }

t=$SECONDS
step "1/3 tools for the web app (first time: trunk ~4 min, wasm-bindgen ~2 min; then seconds)"
FRONTEND_TOOLS_NO_BROWSER=1 bash scripts/frontend-tools.sh
took "$t"

# The bundle and the server share one target directory, and cargo builds one thing at a time
# in it, so the two builds run one after the other; each prints its own progress.
t=$SECONDS
step "2/3 the web app, release bundle (first time ~2 min)"
FRONTEND_TOOLS_NO_BROWSER=1 bash scripts/build-frontend.sh
took "$t"

t=$SECONDS
step "3/3 the server, release build (first time ~5 min)"
cargo build --release -p backend --locked
took "$t"

printf '\n[run] ready after %ds. Open http://%s in your browser.\n\n' \
    "$((SECONDS - started))" "${CHAT_BIND:-127.0.0.1:8080}"
exec ./target/release/chat-server "$@"
