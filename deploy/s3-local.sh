#!/usr/bin/env bash
# A local S3-compatible server for testing the static-bucket deploy: moto in server mode.
#
#   deploy/s3-local.sh start      starts it in the background, prints its endpoint
#   deploy/s3-local.sh stop       stops the one this script started (by its PID file)
#   deploy/s3-local.sh status
#
# Environment: S3_LOCAL_PORT (default 9000), S3_LOCAL_DIR (PID file and log; default
# target/s3-local). Any access key works (moto does not check them); a bucket made public
# with S3_PUBLIC_READ=1 serves anonymous GETs both path-style (http://127.0.0.1:PORT/BUCKET/KEY)
# and virtual-host style (http://BUCKET.localhost:PORT/KEY — the SPA at an origin's root,
# which browsers resolve to loopback).
#
# Why moto: a PyPI package (installable here, already present on this machine kind), one
# process, speaks the S3 REST API including bucket policies and virtual-host addressing; it
# keeps objects in memory, which suits tests. Installed into a private venv under target/ only
# when the machine's python3 lacks it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
port="${S3_LOCAL_PORT:-9000}"
dir="${S3_LOCAL_DIR:-$repo/target/s3-local}"
pidfile="$dir/moto.pid"

running() {
    [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$(cat "$pidfile")/cmdline" | grep -q moto
}

case "${1:-}" in
    start)
        mkdir -p "$dir"
        if running; then
            echo "http://127.0.0.1:$(cat "$dir/port")"
            exit 0
        fi
        # shellcheck source=deploy/python-env.sh
        source "$here/python-env.sh"
        py="$(python_with moto.server 'moto[server]>=5,<6')"
        nohup "$py" -m moto.server -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
        pid=$!
        echo "$pid" >"$pidfile"
        echo "$port" >"$dir/port"
        # Ready when *our* moto answers: S3's bucket listing (not just anything on the port —
        # another server that took it first would otherwise pass) while our process lives.
        # (Only the PID here: until the child has exec'd python its command line is ours.)
        for _ in $(seq 1 100); do
            if curl -fsS "http://127.0.0.1:$port/" 2>/dev/null | grep -q ListAllMyBucketsResult \
                && kill -0 "$pid" 2>/dev/null; then
                echo "http://127.0.0.1:$port"
                exit 0
            fi
            kill -0 "$pid" 2>/dev/null || { echo "moto server exited:" >&2; tail -20 "$dir/moto.log" >&2; exit 1; }
            sleep 0.1
        done
        echo "moto server did not answer on port $port within 10 s" >&2
        kill "$pid" 2>/dev/null || true
        rm -f "$pidfile"
        exit 1
        ;;
    stop)
        if running; then
            pid="$(cat "$pidfile")"
            kill "$pid"
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
        ;;
    status)
        if running; then echo "running: http://127.0.0.1:$(cat "$dir/port") (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi
        ;;
    *)
        sed -n '2,9p' "$0" >&2
        exit 2
        ;;
esac
