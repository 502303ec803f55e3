#!/usr/bin/env bash
# Brings the whole production topology up on this machine, with real processes:
#
#   browser ──► nginx :8088 ──/──────► frontend/dist (the release SPA bundle)
#                  ├──/api/, /ws──► chat-server :8181 ─┬─► PostgreSQL (database chat_prod)
#                  └──────────────► chat-server :8182 ─┴─► Redis :6390 (private, pub/sub)
#
# Builds the release bundle and the release server first, creates the database when it is
# missing, starts a private redis-server, two chat-server instances and a private nginx, and
# prints the URL. scripts/prod-down.sh stops exactly what this started (PID files under the
# state directory). Everything is on 127.0.0.1 unless PROD_BIND says otherwise.
#
# Settings (environment):
#   PROD_PORT            nginx's port                        8088
#   PROD_BIND            nginx's address                     127.0.0.1
#   PROD_BACKEND_PORTS   the chat-server ports (2 or more)   "8181 8182"
#   PROD_REDIS_PORT      the private redis-server's port     6390
#   PROD_REDIS_URL       use this Redis instead of starting one
#   PROD_DATABASE_URL    the database (created if missing)   postgres://root@127.0.0.1:5432/chat_prod
#   PROD_ALLOWED_ORIGINS extra origins for CORS and websockets (the static bucket's origin)
#   PROD_STATE_DIR       PID files, logs, rendered nginx     target/prod
#   PROD_DIST            the SPA bundle                      frontend/dist
#   PROD_SKIP_BUILD=1    use the existing bundle and target/release/chat-server
#   PROD_CHAT_SERVER_BIN the server binary                   target/release/chat-server
# Any CHAT_* setting in the environment reaches both instances (see chat-server --help).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

port="${PROD_PORT:-8088}"
bind="${PROD_BIND:-127.0.0.1}"
read -r -a backend_ports <<<"${PROD_BACKEND_PORTS:-8181 8182}"
redis_port="${PROD_REDIS_PORT:-6390}"
database_url="${PROD_DATABASE_URL:-postgres://root@127.0.0.1:5432/chat_prod}"
state="${PROD_STATE_DIR:-$repo/target/prod}"
dist="${PROD_DIST:-$repo/frontend/dist}"
server_bin="${PROD_CHAT_SERVER_BIN:-$repo/target/release/chat-server}"

say() { printf '[prod-up] %s\n' "$*"; }
die() { printf '[prod-up] error: %s\n' "$*" >&2; exit 1; }

# A tool from PATH or sbin; installed from Debian's packages when missing and we are root.
need() {
    local tool="$1" package="$2" found
    found="$(PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin" command -v "$tool" || true)"
    if [[ -z "$found" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
        say "installing $package (apt-get)" >&2
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >&2
        found="$(PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin" command -v "$tool" || true)"
    fi
    [[ -n "$found" ]] || die "$tool not found (install the $package package)"
    echo "$found"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() { # NAME: is the process of pids/NAME.pid still the one we started?
    local pidfile="$state/pids/$1.pid" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(cat "$pidfile")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
        && [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$(cat "$state/pids/$1.exe" 2>/dev/null)" ]]
}

# Records what was started: its PID and executable (prod-down checks both before a signal,
# so a recycled PID is never killed).
record() { # NAME PID BINARY
    echo "$2" >"$state/pids/$1.pid"
    readlink -f "$3" >"$state/pids/$1.exe"
}

# 0 once URL answers, 2 if the process NAME has died (no point waiting), 1 otherwise.
healthy_or_dead() { # NAME URL
    kill -0 "$(cat "$state/pids/$1.pid")" 2>/dev/null || return 2
    curl -fsS -o /dev/null "$2"
}

wait_for() { # WHAT SECONDS COMMAND...
    local what="$1" seconds="$2" rc
    shift 2
    for _ in $(seq 1 $((seconds * 10))); do
        rc=0
        "$@" >/dev/null 2>&1 || rc=$?
        case "$rc" in
            0) return 0 ;;
            2) die "$what: the process exited" ;;
        esac
        sleep 0.1
    done
    die "$what not ready within ${seconds}s"
}

(( ${#backend_ports[@]} >= 1 )) || die "PROD_BACKEND_PORTS is empty"
mkdir -p "$state/pids" "$state/logs"
for name in nginx redis "${backend_ports[@]/#/chat-server-}"; do
    if alive "$name"; then
        die "$name is already running (from an earlier prod-up); run scripts/prod-down.sh first"
    fi
done

nginx_bin="$(need nginx nginx)"
# brotli_static for the bundle's .br files (render.sh falls back to gzip without it).
if [[ ! -f /usr/lib/nginx/modules/ngx_http_brotli_static_module.so && "$(id -u)" == 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnginx-mod-http-brotli-static
fi
psql_bin="$(need psql postgresql-client)"
redis_bin=""
[[ -n "${PROD_REDIS_URL:-}" ]] || redis_bin="$(need redis-server redis-server)"
ports=("$port" "${backend_ports[@]}")
[[ -n "${PROD_REDIS_URL:-}" ]] || ports+=("$redis_port")
for p in "${ports[@]}"; do
    [[ "$p" =~ ^[0-9]+$ ]] || die "port '$p' is not a number"
    port_free "$p" || die "port $p is in use (set PROD_PORT / PROD_BACKEND_PORTS / PROD_REDIS_PORT)"
done

# From here on, a failure stops whatever was already started.
cleanup_on_failure() {
    local rc=$?
    if [[ $rc != 0 ]]; then
        say "failed; stopping what was started"
        PROD_STATE_DIR="$state" bash "$repo/scripts/prod-down.sh" >&2 || true
    fi
    exit $rc
}
trap cleanup_on_failure EXIT

if [[ "${PROD_SKIP_BUILD:-}" != 1 ]]; then
    say "building the release SPA bundle (scripts/build-frontend.sh)"
    bash scripts/build-frontend.sh
    say "building the release server"
    cargo build --release -p backend --locked
fi
[[ -x "$server_bin" ]] || die "$server_bin not found (unset PROD_SKIP_BUILD to build it)"
[[ -f "$dist/index.html" ]] || die "$dist/index.html not found (unset PROD_SKIP_BUILD to build it)"
# nginx's workers run as nobody: the bundle must be world-readable.
chmod -R a+rX "$dist"

# PostgreSQL: the database on the running server, created when missing.
db_name="${database_url##*/}"
db_name="${db_name%%\?*}"
[[ "$db_name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "unexpected database name '$db_name' in PROD_DATABASE_URL"
admin_url="${PROD_PG_ADMIN_URL:-${database_url%/*}/postgres}"
"$psql_bin" "$admin_url" -Atc 'select 1' >/dev/null 2>&1 \
    || die "PostgreSQL at $admin_url is not reachable (start it, or set PROD_DATABASE_URL)"
if [[ "$("$psql_bin" "$admin_url" -Atc "select 1 from pg_database where datname = '$db_name'")" != 1 ]]; then
    say "creating database $db_name"
    "$psql_bin" "$admin_url" -qc "CREATE DATABASE $db_name" >/dev/null
fi

# Redis: a private one (keeps nothing on disk: it only carries events between instances).
if [[ -n "${PROD_REDIS_URL:-}" ]]; then
    redis_url="$PROD_REDIS_URL"
else
    mkdir -p "$state/redis"
    "$redis_bin" --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$state/redis" --daemonize yes --pidfile "$state/redis/redis.pid" \
        --logfile "$state/logs/redis.log"
    wait_for "redis-server pid file" 10 test -s "$state/redis/redis.pid"
    record redis "$(cat "$state/redis/redis.pid")" "$redis_bin"
    wait_for "redis-server" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$redis_port"
    redis_url="redis://127.0.0.1:$redis_port"
fi
say "redis: $redis_url"

# The chat-server instances, one after the other (the first applies the migrations).
upstreams=()
for i in "${!backend_ports[@]}"; do
    n=$((i + 1))
    p="${backend_ports[$i]}"
    env_args=(CHAT_BIND="127.0.0.1:$p" DATABASE_URL="$database_url" REDIS_URL="$redis_url"
        CHAT_STATIC_DIR="$dist" CHAT_TRUSTED_PROXIES="${CHAT_TRUSTED_PROXIES:-127.0.0.1}"
        RUST_LOG="${RUST_LOG:-info}")
    origins="${PROD_ALLOWED_ORIGINS:-${CHAT_ALLOWED_ORIGINS:-}}"
    [[ -z "$origins" ]] || env_args+=(CHAT_ALLOWED_ORIGINS="$origins")
    env "${env_args[@]}" setsid "$server_bin" >>"$state/logs/chat-server-$n.log" 2>&1 </dev/null &
    record "chat-server-$p" $! "$server_bin"
    wait_for "chat-server #$n on :$p (see $state/logs/chat-server-$n.log)" 60 \
        healthy_or_dead "chat-server-$p" "http://127.0.0.1:$p/api/health"
    say "chat-server #$n: http://127.0.0.1:$p (pid $(cat "$state/pids/chat-server-$p.pid"))"
    upstreams+=("127.0.0.1:$p")
done

# nginx in front, rendered from nginx/chat.conf.template.
NGINX_LISTEN="$bind:$port" NGINX_SERVER_NAME="${PROD_SERVER_NAME:-_}" \
    NGINX_UPSTREAMS="${upstreams[*]}" NGINX_DIST="$dist" \
    bash nginx/render.sh private "$state/nginx" >/dev/null
"$nginx_bin" -t -q -p "$state/nginx" -c conf/nginx.conf -e stderr
"$nginx_bin" -p "$state/nginx" -c conf/nginx.conf -e stderr
wait_for "nginx pid file" 10 test -s "$state/nginx/nginx.pid"
record nginx "$(cat "$state/nginx/nginx.pid")" "$nginx_bin"
host="$bind"
[[ "$host" == 0.0.0.0 ]] && host=127.0.0.1
wait_for "nginx on :$port" 10 curl -fsS "http://$host:$port/api/health"
trap - EXIT

url="http://$host:$port"
say "up: nginx → ${#upstreams[@]} chat-servers → PostgreSQL ($db_name) + Redis"
say "logs: $state/logs, $state/nginx/logs; stop with scripts/prod-down.sh"
echo "$url" >"$state/url"
echo "Open $url in your browser."
