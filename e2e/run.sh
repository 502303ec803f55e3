#!/usr/bin/env bash
# The browser end-to-end tests: headless Chromium (Debian's) drives the release web bundle
# served by the real chat-server on a temporary SQLite database (chat, notifications), and in
# the production topology (topology.test.js: nginx → two chat-servers → PostgreSQL + Redis via
# scripts/prod-up.sh, and the bundle in a local S3 bucket on another origin). Installs and
# builds what is missing first.
#   CHAT_SERVER_BIN  server binary to test (default: target/release/chat-server, built if missing)
#   E2E_DIST         the bundle of the topology test (default: frontend/dist, built if missing)
# Screenshots: target/screenshots/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

ensure() { # TOOL PACKAGE: Debian's package when the tool is missing and we are root
    if PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin" command -v "$1" >/dev/null; then return 0; fi
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        echo "installing $2 (apt-get)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"
    else
        echo "warning: $1 is missing (install the $2 package); the topology browser test will skip" >&2
    fi
}

if [[ ! -x /usr/bin/chromium ]]; then
    bash scripts/frontend-tools.sh
fi
# A bundle from before the runtime config file (dist/config.json) cannot run from a bucket.
if [[ -z "${E2E_DIST:-}" && ( ! -f frontend/dist/index.html || ! -f frontend/dist/config.json ) ]]; then
    bash scripts/build-frontend.sh
fi

# The production topology's processes, and moto + boto3 for the bucket (the machine's python3
# when it has them, else a venv under target/; see deploy/python-env.sh).
ensure nginx nginx
ensure redis-server redis-server
ensure psql postgresql-client
# shellcheck source=deploy/python-env.sh
source deploy/python-env.sh
python_with moto.server 'moto[server]>=5,<6' >/dev/null \
    && python_with boto3 'boto3>=1.34,<2' >/dev/null \
    || echo "warning: no python3 with moto and boto3; the topology browser test will skip" >&2
export CHAT_SERVER_BIN="${CHAT_SERVER_BIN:-$ROOT/target/release/chat-server}"
if [[ ! -x "$CHAT_SERVER_BIN" ]]; then
    cargo build --release -p backend --locked
fi

cd e2e
if [[ ! -d node_modules/playwright-core ]]; then
    npm ci --no-audit --no-fund
fi
exec node --test --test-concurrency=1 tests/
