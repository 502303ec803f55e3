#!/usr/bin/env bash
# Stops what scripts/prod-up.sh started, and nothing else: every process recorded under
# PROD_STATE_DIR/pids (default target/prod/pids), and only while that PID still runs the
# executable recorded with it. Front to back: nginx first (no new connections), then the
# chat-server instances (SIGTERM: they finish in-flight writes and close sockets with 1001),
# then Redis. Each gets up to PROD_STOP_SECS (default 15) before SIGKILL.
#
#   PROD_DROP_DB=1   also drop the database (PROD_DATABASE_URL, default chat_prod)
set -euo pipefail
cd "$(dirname "$0")/.."
state="${PROD_STATE_DIR:-$PWD/target/prod}"
grace="${PROD_STOP_SECS:-15}"

say() { printf '[prod-down] %s\n' "$*"; }

stop() { # NAME
    local name="$1" pidfile="$state/pids/$1.pid" pid expected actual
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile")"
    expected="$(cat "$state/pids/$name.exe" 2>/dev/null || true)"
    actual="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
    if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
        say "$name (pid $pid) was not running"
    elif [[ -n "$expected" && "$actual" != "$expected" ]]; then
        say "$name: pid $pid now runs ${actual:-something else}, not $expected; leaving it alone"
    else
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 $((grace * 10))); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name (pid $pid) still running after ${grace}s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile" "$state/pids/$name.exe"
}

if [[ ! -d "$state/pids" ]]; then
    say "nothing to stop (no $state/pids)"
else
    stop nginx
    for pidfile in "$state"/pids/chat-server-*.pid; do
        [[ -e "$pidfile" ]] || continue
        name="$(basename "$pidfile" .pid)"
        # In parallel: each instance drains on its own.
        stop "$name" &
    done
    wait
    stop redis
fi

if [[ "${PROD_DROP_DB:-}" == 1 ]]; then
    database_url="${PROD_DATABASE_URL:-postgres://root@127.0.0.1:5432/chat_prod}"
    db_name="${database_url##*/}"
    db_name="${db_name%%\?*}"
    [[ "$db_name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { say "unexpected database name '$db_name'"; exit 1; }
    psql "${PROD_PG_ADMIN_URL:-${database_url%/*}/postgres}" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)"
    say "dropped database $db_name"
fi
