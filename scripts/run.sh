#!/usr/bin/env bash
# Builds the web app and the server (installing the tools that are missing) and starts the
# whole product on the embedded default: SQLite under ./data, http://127.0.0.1:8080.
# Any chat-server flag or CHAT_* variable can be passed through, e.g. scripts/run.sh --bind 0.0.0.0:8080
#
# On a fresh 2-core machine the first run takes 12 to 15 minutes (see the README); every
# later one takes seconds. Each step says what it does and roughly how long it takes.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
step() { printf '\n[run] %s\n' "$*"; }
took() { printf '[run] ... done in %ds\n' "$((SECONDS - $1))"; }
mkdir -p target

# The server builds while the tools install (they use build folders of their own) and then
# while the web bundle builds (in target/wasm): on 2 cores the three overlap, and the server's
# final link, which uses one core, runs beside the bundle.
step "1/3 the server, release build, in the background (first time 11–14 min beside steps 2 and 3; log: target/run-server-build.log)"
cargo build --release -p backend --locked >target/run-server-build.log 2>&1 &
server_build=$!
trap 'kill "$server_build" 2>/dev/null || true' EXIT

t=$SECONDS
step "2/3 tools for the web app (first time 9–12 min on 2 cores shared with step 1: trunk, then wasm-bindgen; then seconds)"
FRONTEND_TOOLS_NO_BROWSER=1 bash scripts/frontend-tools.sh
took "$t"

t=$SECONDS
step "3/3 the web app, release bundle (first time 1.5–3 min, beside the end of the server build)"
FRONTEND_TOOLS_NO_BROWSER=1 bash scripts/build-frontend.sh
took "$t"

t=$SECONDS
step "waiting for the server build (step 1)"
if ! wait "$server_build"; then
    tail -n 30 target/run-server-build.log >&2
    echo "[run] the server build failed (whole log: target/run-server-build.log)" >&2
    exit 1
fi
trap - EXIT
took "$t"

printf '\n[run] ready after %ds. Open http://%s in your browser.\n\n' \
    "$((SECONDS - started))" "${CHAT_BIND:-127.0.0.1:8080}"
exec ./target/release/chat-server "$@"
