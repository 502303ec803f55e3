#!/usr/bin/env bash
# The production-topology tests (backend/tests/topology.rs): real nginx in front of two real
# chat-server processes on a fresh PostgreSQL database and a private redis-server; plus the
# static-bucket upload against a local S3 (moto). Installs nginx / redis-server from Debian's
# packages when missing (as root). Without them, or without PostgreSQL, the tests fail, unless
# CHAT_TEST_SKIP_MISSING=1 says to skip them loudly on this machine.
#
#   scripts/prod-test.sh [--with-prod-up] [cargo test filter...]
#
# --with-prod-up also runs scripts/prod-up.sh on spare ports (the release build and the web
# bundle; slow the first time), checks the app and the API through its nginx, and takes it
# down with scripts/prod-down.sh.
#
# Environment: TOPOLOGY_PG_URL (default TEST_DATABASE_URL, else
# postgres://root@127.0.0.1:5432/test), TOPOLOGY_THREADS (parallel tests, default 2),
# TOPOLOGY_KEEP=1 (keep each test's configs and logs), TOPOLOGY_TRACE=1 (client traces),
# TOPOLOGY_REDIS_MONITOR=1 (redis-cli monitor log).
set -euo pipefail
cd "$(dirname "$0")/.."

with_prod_up=0
if [[ "${1:-}" == --with-prod-up ]]; then
    with_prod_up=1
    shift
fi

step() { printf '\n=== %s\n' "$*"; }

ensure() { # TOOL PACKAGE
    if PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin" command -v "$1" >/dev/null; then return 0; fi
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        echo "installing $2 (apt-get)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"
    else
        echo "warning: $1 is missing (install the $2 package)" >&2
    fi
}

step "tools for the topology tests"
ensure nginx nginx
ensure redis-server redis-server
ensure gzip gzip
ensure brotli brotli
if [[ ! -f /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ]]; then
    echo "installing libnginx-mod-http-brotli-static (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnginx-mod-http-brotli-static
fi

step "topology tests: nginx → 2 chat-servers → PostgreSQL + Redis (real processes)"
export PATH="$PATH:/usr/sbin"
cargo test -p backend --test topology --locked -- --test-threads="${TOPOLOGY_THREADS:-2}" "$@"

if [[ "$with_prod_up" == 1 ]]; then
    step "scripts/prod-up.sh on spare ports, then scripts/prod-down.sh"
    export PROD_STATE_DIR="$PWD/target/prod-test" PROD_PORT=18088 PROD_BACKEND_PORTS="18181 18182" \
        PROD_REDIS_PORT=16390 PROD_DATABASE_URL="postgres://root@127.0.0.1:5432/chat_prod_test"
    trap 'PROD_DROP_DB=1 bash scripts/prod-down.sh' EXIT
    bash scripts/prod-up.sh
    curl -fsS "http://127.0.0.1:$PROD_PORT/" | grep -q '<script' || { echo "no app at /" >&2; exit 1; }
    curl -fsS "http://127.0.0.1:$PROD_PORT/api/health" | grep -q '"pubsub":"ok"' \
        || { echo "health through nginx is not ok" >&2; exit 1; }
    wasm="$(basename "$(ls -1 frontend/dist/*.wasm | head -n1)")"
    curl -fsS -o /dev/null -w '%{content_type}\n' "http://127.0.0.1:$PROD_PORT/$wasm" | grep -qx 'application/wasm' \
        || { echo "$wasm is not served as application/wasm" >&2; exit 1; }
    echo "prod-up topology answered: app, /api/health (pubsub ok), $wasm as application/wasm"
fi
