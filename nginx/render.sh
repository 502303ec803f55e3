#!/usr/bin/env bash
# Renders the nginx config from its templates.
#
#   nginx/render.sh site                 prints chat.conf (for /etc/nginx/conf.d/chat.conf)
#   nginx/render.sh private PREFIX       writes PREFIX/conf/{nginx.conf,chat.conf,mime.types},
#                                        PREFIX/logs and PREFIX/tmp for
#                                        `nginx -p PREFIX -c conf/nginx.conf -e stderr`
#
# Settings (environment):
#   NGINX_LISTEN       what `listen` gets                     default 8088
#   NGINX_SERVER_NAME  server_name                            default _
#   NGINX_UPSTREAMS    chat-server addresses, space/comma     default "127.0.0.1:8081 127.0.0.1:8082"
#   NGINX_DIST         the SPA bundle (made absolute)         default <repo>/frontend/dist
#   NGINX_WORKERS      worker_processes (private only)        default 1
#   NGINX_MIME_TYPES   mime.types to copy (private only)      default /etc/nginx/mime.types
#   NGINX_UPLOAD_MAX_BYTES  largest upload body               default $CHAT_UPLOAD_MAX_BYTES, else 26214400 (25 MiB)
#
# The Content-Security-Policy allows exactly the inline bootstrap scripts found in
# NGINX_DIST/index.html (by sha256) and connections to this origin plus the backend named by
# NGINX_DIST/config.json (if any), so render again after deploying a new bundle.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

usage() {
    sed -n '2,19p' "$0" >&2
    exit 2
}

mode="${1:-}"
case "$mode" in
    site) [[ $# -eq 1 ]] || usage ;;
    private) [[ $# -eq 2 ]] || usage ;;
    *) usage ;;
esac

export NGINX_LISTEN="${NGINX_LISTEN:-8088}"
export NGINX_SERVER_NAME="${NGINX_SERVER_NAME:-_}"
# The same limit as the backend's (a body of exactly the limit passes both).
export NGINX_UPLOAD_MAX_BYTES="${NGINX_UPLOAD_MAX_BYTES:-${CHAT_UPLOAD_MAX_BYTES:-26214400}}"
NGINX_UPSTREAMS="${NGINX_UPSTREAMS:-127.0.0.1:8081 127.0.0.1:8082}"
dist="${NGINX_DIST:-$repo/frontend/dist}"
[[ -d "$dist" ]] || { echo "render.sh: NGINX_DIST $dist is not a directory (build the bundle first)" >&2; exit 1; }
export NGINX_DIST="$(cd "$dist" && pwd)"

# One `server` line per instance. max_fails=1: a single refused connect takes an instance out
# of rotation for 10 s, so a dead instance costs reconnecting clients one retry, not many.
servers=""
for addr in ${NGINX_UPSTREAMS//,/ }; do
    [[ "$addr" =~ ^[^[:space:]\;\{\}]+:[0-9]+$ ]] || { echo "render.sh: bad upstream address '$addr' (want HOST:PORT)" >&2; exit 1; }
    servers+="    server $addr max_fails=1 fail_timeout=10s;"$'\n'
done
[[ -n "$servers" ]] || { echo "render.sh: NGINX_UPSTREAMS is empty" >&2; exit 1; }
export NGINX_UPSTREAM_SERVERS="${servers%$'\n'}"

# script-src: 'self', 'wasm-unsafe-eval' and the sha256 of each inline <script> of index.html
# (trunk writes one that imports the JS glue and starts the wasm).
csp_hashes() {
    local index="$NGINX_DIST/index.html"
    [[ -f "$index" ]] || { echo "render.sh: warning: no $index yet; the CSP allows no inline script" >&2; return 0; }
    if ! grep -qi '<script' "$index"; then return 0; fi
    command -v python3 >/dev/null || { echo "render.sh: python3 is needed to hash the inline scripts of $index" >&2; exit 1; }
    python3 - "$index" <<'PY'
import base64, hashlib, re, sys
html = open(sys.argv[1], encoding="utf-8").read()
for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script\s*>", html, re.S | re.I):
    if re.search(r"\bsrc\s*=", attrs, re.I) or not body.strip():
        continue
    digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
    print(f"'sha256-{digest}'", end=" ")
PY
}
hashes="$(csp_hashes)"
export NGINX_CSP_SCRIPT_SRC="'self' 'wasm-unsafe-eval'${hashes:+ ${hashes% }}"

# connect-src: 'self' (the API, the same-origin ws:// / wss:// socket and the runtime config
# file), plus the backend origin named by NGINX_DIST/config.json when it points elsewhere
# ({"api_base": "https://api.example.com"} adds https://api.example.com wss://api.example.com).
csp_connect_src() {
    local config="$NGINX_DIST/config.json"
    [[ -f "$config" ]] || return 0
    grep -q '"api_base"[[:space:]]*:[[:space:]]*"[^"[:space:]]' "$config" || return 0
    command -v python3 >/dev/null || { echo "render.sh: python3 is needed to read the api_base of $config" >&2; exit 1; }
    python3 - "$config" <<'PY'
import json, re, sys
base = (json.load(open(sys.argv[1], encoding="utf-8")).get("api_base") or "").strip()
m = re.match(r"(?i)(https?)://([^/?#@\s]+)", base)
if not m:
    sys.exit(f"render.sh: api_base {base!r} in {sys.argv[1]} is not an http(s) URL")
scheme, host = m.group(1).lower(), m.group(2).lower()
print(f"{scheme}://{host} {'wss' if scheme == 'https' else 'ws'}://{host}", end="")
PY
}
connect="$(csp_connect_src)"
export NGINX_CSP_CONNECT_SRC="'self'${connect:+ $connect}"
# img-src: this origin, data: (the inline SVG favicon), blob: (previews of files being attached)
# and the backend's http(s) origin, which serves the attachments when it is another one.
export NGINX_CSP_IMG_SRC="'self' data: blob:${connect:+ ${connect%% *}}"

# Which files are immutable: the one rule of the repository (frontend/immutable-assets.md).
export NGINX_IMMUTABLE_ASSETS="$(tr -d '\n' <"$repo/frontend/immutable-assets.regex")"

# Pre-compressed .br files need the brotli_static module; without it nginx still serves the
# .gz siblings (gzip_static is built in).
brotli_module="${NGINX_BROTLI_MODULE:-/usr/lib/nginx/modules/ngx_http_brotli_static_module.so}"
if [[ -f "$brotli_module" ]]; then
    export NGINX_BROTLI_STATIC="brotli_static on;"
    export NGINX_LOAD_MODULES="load_module $brotli_module;"
else
    echo "render.sh: warning: no $brotli_module (apt-get install libnginx-mod-http-brotli-static): serving gzip only" >&2
    export NGINX_BROTLI_STATIC="# brotli_static: module not installed"
    export NGINX_LOAD_MODULES="# no brotli_static module"
fi

vars='${NGINX_LISTEN} ${NGINX_SERVER_NAME} ${NGINX_UPLOAD_MAX_BYTES} ${NGINX_UPSTREAM_SERVERS} ${NGINX_DIST} ${NGINX_CSP_SCRIPT_SRC} ${NGINX_CSP_CONNECT_SRC} ${NGINX_CSP_IMG_SRC} ${NGINX_IMMUTABLE_ASSETS} ${NGINX_BROTLI_STATIC}'

if [[ "$mode" == site ]]; then
    envsubst "$vars" <"$here/chat.conf.template"
    exit 0
fi

prefix="$2"
mkdir -p "$prefix/conf" "$prefix/logs" "$prefix/tmp"
export NGINX_PREFIX="$(cd "$prefix" && pwd)"
export NGINX_WORKERS="${NGINX_WORKERS:-1}"
mime="${NGINX_MIME_TYPES:-/etc/nginx/mime.types}"
[[ -f "$mime" ]] || { echo "render.sh: $mime not found (install nginx, or set NGINX_MIME_TYPES)" >&2; exit 1; }
cp "$mime" "$NGINX_PREFIX/conf/mime.types"
envsubst "$vars" <"$here/chat.conf.template" >"$NGINX_PREFIX/conf/chat.conf"
envsubst '${NGINX_WORKERS} ${NGINX_PREFIX} ${NGINX_LOAD_MODULES}' <"$here/nginx.conf.template" >"$NGINX_PREFIX/conf/nginx.conf"

# Started as root, the workers run as `nobody`: the bundle must be readable by everyone, every
# directory above it searchable. Say so now rather than serve 403s later.
if [[ "$(id -u)" == 0 ]] && command -v runuser >/dev/null; then
    if ! runuser -u nobody -- test -r "$NGINX_DIST/." -a -x "$NGINX_DIST/." 2>/dev/null; then
        echo "render.sh: nginx workers (user nobody) cannot read $NGINX_DIST;" \
            "make it and its parents world-readable (chmod -R a+rX) or move it" >&2
        exit 1
    fi
fi
echo "$NGINX_PREFIX/conf/nginx.conf"
