#!/usr/bin/env bash
# The project's benchmark (issue 5). Every run is bounded and stops by itself.
#
#   scripts/bench.sh           the standard set: release build, then every scenario at the
#                              issue's sizes on SQLite (each run three times on a fresh server,
#                              then a line with the median and min–max; search once, on a
#                              1,000,000-message history from `chat-server seed`), then burst,
#                              steady, reactions and search on PostgreSQL, then burst, steady
#                              and reactions through nginx in front of two instances joined by
#                              Redis (on PostgreSQL), then the 10-minute soak on SQLite, then
#                              the release .wasm size. Human tables on stderr; one JSON line per
#                              run (and one aggregate per repeated scenario) appended to
#                              target/bench/results.jsonl.
#   scripts/bench.sh --only sqlite|postgres|topology|soak|bundle   one part of the standard set.
#   scripts/bench.sh --quick   the correctness run of CI (about a minute): tiny sizes against
#                              $CHAT_SERVER_BIN (default target/debug/chat-server, built when
#                              missing): every scenario on SQLite (search included: a message
#                              not found right after its ack fails it), burst, steady,
#                              reactions and search on PostgreSQL, and burst, steady and
#                              reactions through nginx + two instances + Redis (each when
#                              available); one run each, no soak. Fails only on loss,
#                              duplicates, disorder or errors, never on timing. JSON in
#                              target/bench/quick.jsonl.
#
# Anything after `--` goes to every chat-bench call (e.g. `-- --register-concurrency 2`,
# `-- --repeat 1` for one run of each scenario).
# Binaries are looked for under $CARGO_TARGET_DIR (default target/).
# CHAT_SERVER_BIN and CHAT_BENCH_BIN use prebuilt binaries (BENCH_COMMIT: the commit they
# were built from); BENCH_RESULTS another results file.
# PostgreSQL: $BENCH_DATABASE_URL, else $TEST_DATABASE_URL, else
# postgres://root@127.0.0.1:5432/test; a database of its own is created and dropped per run.
# `target/release/chat-bench summarize target/bench/results.jsonl` prints the last figures
# as a Markdown table (as in BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
only=""
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=true; shift ;;
        --only) only="${2:-}"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "usage: scripts/bench.sh [--quick | --only sqlite|postgres|topology|soak|bundle] [-- chat-bench options]" >&2; exit 2 ;;
    esac
done

# 10,000 sockets need as many descriptors in this tool and in the server it starts.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

PG_URL="${BENCH_DATABASE_URL:-${TEST_DATABASE_URL:-postgres://root@127.0.0.1:5432/test}}"
TARGET="${CARGO_TARGET_DIR:-target}"
OUT=target/bench
mkdir -p "$OUT"
# BENCH_COMMIT: the commit prebuilt binaries were built from (then taken as clean).
commit="${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
dirty=false
if [[ -z "${BENCH_COMMIT:-}" && -n "$(git status --porcelain -- backend shared migrations Cargo.lock 2>/dev/null)" ]]; then
    dirty=true
fi
tags=(--tag "commit=$commit" --tag "dirty=$dirty")
status=0

# ---------------------------------------------------------------------------------------
# PostgreSQL databases of this run, dropped at exit.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
pg_reachable() { psql "$PG_URL" -Atc 'select 1' >/dev/null 2>&1; }
pg_base="${PG_URL%/*}"
pg_dbs=()
drop_pg_dbs() {
    for db in "${pg_dbs[@]+"${pg_dbs[@]}"}"; do
        psql "$PG_URL" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
    done
}
# Creates an empty database; its URL is left in $pg_url.
fresh_pg_db() {
    local name="chat_bench_$$_$1"
    psql "$PG_URL" -qc "drop database if exists $name with (force)" >/dev/null
    psql "$PG_URL" -qc "create database $name" >/dev/null
    pg_dbs+=("$name")
    pg_url="$pg_base/$name"
}

# ---------------------------------------------------------------------------------------
# The production topology: two chat-server instances on one PostgreSQL database, joined by a
# private redis-server, behind a private nginx rendered from nginx/. Every process started
# here is stopped by its PID.
topo_pids=()
topo_dir=""
topo_s3_dir=""
# A chat-server that does not exit cleanly on SIGTERM is a finding: its logs are kept.
stop_topology() {
    local pid rc kept=false
    if [[ -n "$topo_s3_dir" ]]; then
        S3_LOCAL_DIR="$topo_s3_dir" bash deploy/s3-local.sh stop >/dev/null 2>&1 || true
        topo_s3_dir=""
    fi
    for pid in "${topo_pids[@]+"${topo_pids[@]}"}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${topo_pids[@]+"${topo_pids[@]}"}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        rc=0
        wait "$pid" 2>/dev/null || rc=$?
        if [[ $rc -ne 0 && $rc -ne 143 && -n "$topo_dir" ]]; then
            echo "!!! process $pid ($(cat "$topo_dir/pid-$pid" 2>/dev/null || echo '?')) exited with status $rc on SIGTERM" >&2
            kept=true
        fi
    done
    if $kept; then
        local keep
        keep="$OUT/topology-logs-$(date -u +%Y%m%dT%H%M%SZ)"
        mkdir -p "$keep"
        cp "$topo_dir"/*.log "$keep"/ 2>/dev/null || true
        echo "!!! logs kept in $keep" >&2
    fi
    topo_pids=()
    [[ -n "$topo_dir" ]] && rm -rf "$topo_dir"
    topo_dir=""
}
trap 'stop_topology; drop_pg_dbs' EXIT

topology_available() {
    local tool
    for tool in nginx redis-server curl python3; do
        command -v "$tool" >/dev/null || { echo "$tool"; return 1; }
    done
    pg_reachable || { echo "PostgreSQL at $PG_URL"; return 1; }
}
# Four distinct free ports below the kernel's ephemeral range (32768 and up): nothing else's
# bind to port 0 or outgoing connection can take one before its server binds it.
four_free_ports() {
    python3 -c '
import os, socket
found, port = [], 10000 + (os.getpid() * 7919) % 22000
while len(found) < 4:
    port = 10000 + (port - 10000 + 1) % 22000
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    found.append(port)
print(*found)'
}
wait_healthy() {
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "$1/api/health" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$1 did not become healthy" >&2
    return 1
}
# topology SERVER BENCH [chat-bench global options…]: burst, steady, reactions and uploads
# through nginx.
topology() {
    local server="$1" bench="$2"
    shift 2
    local dir rport p1 p2 nport s1 s2 scenario
    dir="$(mktemp -d /tmp/chat-bench-topology.XXXXXX)"
    topo_dir="$dir"
    chmod 755 "$dir"
    mkdir -p "$dir/dist"
    echo '<!doctype html><title>chat-bench</title>' >"$dir/dist/index.html"
    chmod -R a+rX "$dir/dist"
    read -r rport p1 p2 nport < <(four_free_ports)
    fresh_pg_db topology
    redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no >"$dir/redis.log" 2>&1 &
    topo_pids+=($!); echo "redis-server" >"$dir/pid-$!"
    local env=(DATABASE_URL="$pg_url" REDIS_URL="redis://127.0.0.1:$rport" RUST_LOG=warn
        CHAT_STATIC_DIR="$dir/dist" CHAT_TRUSTED_PROXIES=127.0.0.1
        CHAT_MESSAGES_PER_SECOND=1000000 CHAT_MESSAGE_BURST=1000000
        CHAT_LOGIN_FAILURES_PER_MINUTE=1000000 CHAT_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE=1000000
        CHAT_UPLOADS_PER_MINUTE=1000000)
    # The two instances share their uploads through a local S3-compatible server (moto), as
    # a production deployment shares a bucket; a folder of the run's own without one.
    local s3_port store="file://$dir/uploads"
    read -r s3_port _ _ _ < <(four_free_ports)
    if S3_LOCAL_DIR="$dir/s3" S3_LOCAL_PORT="$s3_port" bash deploy/s3-local.sh start >/dev/null 2>&1 \
        && curl -fsS -X PUT "http://127.0.0.1:$s3_port/chat-bench" >/dev/null; then
        store="s3://chat-bench/uploads"
        env+=(AWS_ENDPOINT="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=bench
            AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1)
        topo_s3_dir="$dir/s3"
    else
        echo "!!! no local S3 server: the topology's uploads use a shared folder" >&2
    fi
    env+=(CHAT_UPLOAD_STORE="$store")
    env "${env[@]}" CHAT_BIND="127.0.0.1:$p1" "$server" >"$dir/server1.log" 2>&1 &
    s1=$!; topo_pids+=("$s1"); echo "chat-server 1" >"$dir/pid-$s1"
    wait_healthy "http://127.0.0.1:$p1" || return 1
    env "${env[@]}" CHAT_BIND="127.0.0.1:$p2" "$server" >"$dir/server2.log" 2>&1 &
    s2=$!; topo_pids+=("$s2"); echo "chat-server 2" >"$dir/pid-$s2"
    wait_healthy "http://127.0.0.1:$p2" || return 1
    NGINX_LISTEN="$nport" NGINX_UPSTREAMS="127.0.0.1:$p1 127.0.0.1:$p2" NGINX_DIST="$dir/dist" \
        bash nginx/render.sh private "$dir/nginx" >/dev/null
    nginx -p "$dir/nginx" -c conf/nginx.conf -e stderr -g 'daemon off;' 2>"$dir/nginx.log" &
    topo_pids+=($!); echo "nginx" >"$dir/pid-$!"
    wait_healthy "http://127.0.0.1:$nport" || return 1
    local rc=0
    for scenario in burst steady reactions uploads; do
        echo "=== $scenario through nginx, two instances joined by Redis, PostgreSQL"
        "$bench" --url "http://127.0.0.1:$nport" --server-pid "$s1" --server-pid "$s2" \
            --tag topology=nginx+2xchat-server+redis --tag database=postgres \
            "$@" "$scenario" >/dev/null || rc=1
    done
    stop_topology
    return $rc
}

# ---------------------------------------------------------------------------------------
if $quick; then
    server="${CHAT_SERVER_BIN:-$TARGET/debug/chat-server}"
    if [[ ! -x "$server" ]]; then
        cargo build -p backend --locked
    fi
    if [[ -z "${CHAT_BENCH_BIN:-}" ]]; then cargo build -p bench --locked; fi
    bench="${CHAT_BENCH_BIN:-$TARGET/debug/chat-bench}"
    results="${BENCH_RESULTS:-$OUT/quick.jsonl}"
    common=(--quick --results "$results" "${tags[@]}" "${extra[@]+"${extra[@]}"}")
    echo "=== chat-bench --quick, every scenario on SQLite ($server)"
    "$bench" --spawn "$server" "${common[@]}" all >/dev/null || status=1
    if pg_reachable; then
        for scenario in burst steady reactions search; do
            fresh_pg_db "quick_$scenario"
            echo "=== chat-bench --quick $scenario on PostgreSQL"
            "$bench" --spawn "$server" --database-url "$pg_url" "${common[@]}" "$scenario" \
                >/dev/null || status=1
        done
    elif [[ "${CHAT_TEST_SKIP_MISSING:-}" != 1 ]]; then
        echo "PostgreSQL at $PG_URL is not reachable (set CHAT_TEST_SKIP_MISSING=1 to skip it here)" >&2
        status=1
    else
        echo "!!! SKIPPED (CHAT_TEST_SKIP_MISSING=1): the quick bench on PostgreSQL ($PG_URL not reachable)" >&2
    fi
    if missing="$(topology_available)"; then
        topology "$server" "$bench" "${common[@]}" || status=1
    elif [[ "${CHAT_TEST_SKIP_MISSING:-}" != 1 ]]; then
        echo "the quick bench through nginx + two instances + Redis cannot run: $missing missing" >&2
        echo "(scripts/prod-test.sh installs them; CHAT_TEST_SKIP_MISSING=1 skips it here)" >&2
        status=1
    else
        echo "!!! SKIPPED (CHAT_TEST_SKIP_MISSING=1): the quick bench through nginx + two instances + Redis ($missing missing)" >&2
    fi
    if [[ $status -eq 0 ]]; then
        echo "chat-bench quick: every scenario correct (no loss, duplicate, disorder or error)"
    else
        echo "chat-bench quick: FAILED (see the tables above; JSON in $results)" >&2
    fi
    exit $status
fi

# The standard set.
if [[ -z "${CHAT_SERVER_BIN:-}" ]]; then cargo build --release -p backend --locked; fi
if [[ -z "${CHAT_BENCH_BIN:-}" ]]; then cargo build --release -p bench --locked; fi
server="${CHAT_SERVER_BIN:-$TARGET/release/chat-server}"
bench="${CHAT_BENCH_BIN:-$TARGET/release/chat-bench}"
results="${BENCH_RESULTS:-$OUT/results.jsonl}"
common=(--results "$results" "${tags[@]}" "${extra[@]+"${extra[@]}"}")
want() { [[ -z "$only" || "$only" == "$1" ]]; }
echo "=== commit $commit (backend dirty=$dirty), load $(cut -d' ' -f1-3 /proc/loadavg), CPU pressure $(grep some /proc/pressure/cpu 2>/dev/null | cut -d' ' -f2-3)"

if want sqlite; then
    echo "=== every scenario on SQLite"
    "$bench" --spawn "$server" "${common[@]}" all >/dev/null || status=1
fi

if want postgres; then
    if pg_reachable; then
        for scenario in burst steady reactions search; do
            fresh_pg_db "$scenario"
            echo "=== $scenario on PostgreSQL"
            "$bench" --spawn "$server" --database-url "$pg_url" "${common[@]}" "$scenario" \
                >/dev/null || status=1
        done
    else
        echo "!!! SKIPPED: burst, steady, reactions and search on PostgreSQL ($PG_URL not reachable)" >&2
    fi
fi

if want topology; then
    if missing="$(topology_available)"; then
        topology "$server" "$bench" "${common[@]}" || status=1
    else
        echo "!!! SKIPPED: the runs through nginx + two instances + Redis ($missing missing)" >&2
    fi
fi

# Ten minutes at a fixed rate (issue 16): RSS slope, descriptors, p99 per minute, no loss.
if want soak; then
    echo "=== soak on SQLite (${BENCH_SOAK_SECONDS:-600} s)"
    "$bench" --spawn "$server" "${common[@]}" --max-secs $(( ${BENCH_SOAK_SECONDS:-600} + 600 )) \
        soak --seconds "${BENCH_SOAK_SECONDS:-600}" >/dev/null || status=1
fi

# The release web bundle as built by scripts/build-frontend.sh (not rebuilt here).
if want bundle; then
    wasm="$(ls frontend/dist/*_bg.wasm 2>/dev/null | head -1 || true)"
    if [[ -n "$wasm" ]]; then
        raw=$(stat -c %s "$wasm")
        gz=$(gzip -9c "$wasm" | wc -c)
        # What a browser downloads: the build's pre-compressed siblings, as served.
        wire_gz=$(stat -c %s "$wasm.gz" 2>/dev/null || echo null)
        wire_br=$(stat -c %s "$wasm.br" 2>/dev/null || echo null)
        built=$(date -u -r "$wasm" +%Y-%m-%dT%H:%M:%SZ)
        echo "=== release .wasm: $raw bytes raw, $gz gzipped (-9); on the wire $wire_br brotli, $wire_gz gzip; $wasm built $built"
        printf '{"scenario":"wasm-bundle","ok":true,"file":"%s","raw_bytes":%s,"gzip9_bytes":%s,"wire_br_bytes":%s,"wire_gzip_bytes":%s,"built":"%s","tags":{"commit":"%s"}}\n' \
            "$wasm" "$raw" "$gz" "$wire_br" "$wire_gz" "$built" "$commit" >>"$results"
    else
        echo "!!! no frontend/dist/*.wasm: run scripts/build-frontend.sh to measure the bundle" >&2
    fi
fi
echo "results appended to $results"
exit $status
