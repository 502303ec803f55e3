#!/usr/bin/env bash
# The project's benchmark (issue 5). Every run is bounded and stops by itself.
#
#   scripts/bench.sh           the standard set: release build, then every scenario at the
#                              issue's sizes on SQLite, then burst and steady on PostgreSQL.
#                              Human tables on stderr; JSON lines appended to
#                              target/bench/results.jsonl (one per scenario).
#   scripts/bench.sh --quick   the correctness run of CI (seconds): tiny sizes against
#                              $CHAT_SERVER_BIN (default target/debug/chat-server, built when
#                              missing), on SQLite and, when reachable, on PostgreSQL. Fails
#                              only on loss, duplicates, disorder or errors, never on timing.
#
# Anything after `--` goes to every chat-bench call (e.g. `-- --register-concurrency 2`).
# PostgreSQL: $BENCH_DATABASE_URL, else $TEST_DATABASE_URL, else
# postgres://root@127.0.0.1:5432/test; a database of its own is created and dropped per run.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=true; shift ;;
        --) shift; extra=("$@"); break ;;
        *) echo "usage: scripts/bench.sh [--quick] [-- chat-bench options]" >&2; exit 2 ;;
    esac
done

# 10,000 sockets need as many descriptors in this tool and in the server it starts.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

PG_URL="${BENCH_DATABASE_URL:-${TEST_DATABASE_URL:-postgres://root@127.0.0.1:5432/test}}"
OUT=target/bench
mkdir -p "$OUT"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty=false
if [[ -n "$(git status --porcelain -- backend shared migrations Cargo.lock 2>/dev/null)" ]]; then
    dirty=true
fi
tags=(--tag "commit=$commit" --tag "dirty=$dirty")

pg_reachable() { psql "$PG_URL" -Atc 'select 1' >/dev/null 2>&1; }
pg_base="${PG_URL%/*}"
pg_dbs=()
drop_pg_dbs() {
    for db in "${pg_dbs[@]+"${pg_dbs[@]}"}"; do
        psql "$PG_URL" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
    done
}
trap drop_pg_dbs EXIT
# Creates an empty PostgreSQL database and prints its URL.
fresh_pg_db() {
    local name="chat_bench_$$_$1"
    psql "$PG_URL" -qc "drop database if exists $name with (force)" >/dev/null
    psql "$PG_URL" -qc "create database $name" >/dev/null
    pg_dbs+=("$name")
    echo "$pg_base/$name"
}

status=0
if $quick; then
    server="${CHAT_SERVER_BIN:-target/debug/chat-server}"
    if [[ ! -x "$server" ]]; then
        cargo build -p backend --locked
    fi
    cargo build -p bench --locked
    bench=target/debug/chat-bench
    results="$OUT/quick.jsonl"
    echo "=== chat-bench --quick on SQLite ($server)"
    "$bench" --quick --spawn "$server" --results "$results" "${tags[@]}" "${extra[@]+"${extra[@]}"}" all \
        >/dev/null || status=1
    if pg_reachable; then
        for scenario in burst steady; do
            url="$(fresh_pg_db "quick_$scenario")"
            echo "=== chat-bench --quick $scenario on PostgreSQL"
            "$bench" --quick --spawn "$server" --database-url "$url" --results "$results" \
                "${tags[@]}" "${extra[@]+"${extra[@]}"}" "$scenario" >/dev/null || status=1
        done
    else
        if [[ "${CI:-}" == "true" ]]; then
            echo "PostgreSQL at $PG_URL is not reachable, and CI must bench it" >&2
            status=1
        else
            echo "!!! SKIPPED: the quick bench on PostgreSQL ($PG_URL not reachable)" >&2
        fi
    fi
    if [[ $status -eq 0 ]]; then
        echo "chat-bench quick: every scenario correct (no loss, duplicate, disorder or error)"
    else
        echo "chat-bench quick: FAILED (see the tables above; JSON in $results)" >&2
    fi
    exit $status
fi

cargo build --release -p backend -p bench --locked
server=target/release/chat-server
bench=target/release/chat-bench
results="$OUT/results.jsonl"
echo "=== standard set on SQLite (commit $commit, dirty=$dirty; load $(cut -d' ' -f1-3 /proc/loadavg))"
"$bench" --spawn "$server" --results "$results" "${tags[@]}" "${extra[@]+"${extra[@]}"}" all \
    >/dev/null || status=1
if pg_reachable; then
    for scenario in burst steady; do
        url="$(fresh_pg_db "$scenario")"
        echo "=== $scenario on PostgreSQL"
        "$bench" --spawn "$server" --database-url "$url" --results "$results" \
            "${tags[@]}" "${extra[@]+"${extra[@]}"}" "$scenario" >/dev/null || status=1
    done
else
    echo "!!! SKIPPED: burst and steady on PostgreSQL ($PG_URL not reachable)" >&2
fi
echo "results appended to $results"
exit $status
