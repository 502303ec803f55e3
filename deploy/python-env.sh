# Sourced by deploy/upload-bucket.sh and deploy/s3-local.sh: `python_with MODULE PIP_SPEC`
# prints a python3 that can import MODULE — the machine's own when it can, otherwise a private
# venv under target/ (created and filled from PyPI only when needed; nothing system-wide).
CHAT_PY_VENV="${CHAT_PY_VENV:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/deploy-venv}"

python_with() {
    local module="$1" spec="$2"
    local py
    for py in "${CHAT_PYTHON:-}" python3 "$CHAT_PY_VENV/bin/python"; do
        [[ -n "$py" ]] || continue
        if command -v "$py" >/dev/null 2>&1 && "$py" -c "import $module" >/dev/null 2>&1; then
            command -v "$py"
            return 0
        fi
    done
    command -v python3 >/dev/null || { echo "python3 is needed (apt-get install python3 python3-venv)" >&2; return 1; }
    if [[ ! -x "$CHAT_PY_VENV/bin/python" ]]; then
        echo "creating $CHAT_PY_VENV for $spec" >&2
        python3 -m venv "$CHAT_PY_VENV" >&2
    fi
    echo "installing $spec into $CHAT_PY_VENV" >&2
    "$CHAT_PY_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" >&2
    "$CHAT_PY_VENV/bin/python" -c "import $module" >&2
    echo "$CHAT_PY_VENV/bin/python"
}
