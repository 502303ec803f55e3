#!/usr/bin/env bash
# Builds the web app and the server (installing the tools that are missing) and starts the
# whole product on the embedded default: SQLite under ./data, http://127.0.0.1:8080.
# Any chat-server flag or CHAT_* variable can be passed through, e.g. scripts/run.sh --bind 0.0.0.0:8080
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-frontend.sh
cargo build --release -p backend --locked
echo "Open http://${CHAT_BIND:-127.0.0.1:8080} in your browser."
exec ./target/release/chat-server "$@"
