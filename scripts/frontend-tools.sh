#!/usr/bin/env bash
# Installs what building and testing the web app needs, only when missing or at the wrong
# version (seconds when everything is present). Versions: ../shared/docs/frontend-toolchain.md.
#   - rustup target wasm32-unknown-unknown
#   - trunk 0.21.14, wasm-bindgen-cli 0.2.129 (equal to the pinned wasm-bindgen crate)
#   - wasm-opt version_132 (npm binaryen@132.0.0; Debian's binaryen is too old)
#   - brotli (Debian) for the bundle's pre-compressed .br siblings
#   - chromium + chromium-driver (Debian) for the browser tests
set -euo pipefail

TRUNK_VERSION="0.21.14"
WASM_BINDGEN_VERSION="0.2.129"
BINARYEN_VERSION="132.0.0"
WASM_OPT_VERSION="version_132"

log() { printf '[frontend-tools] %s\n' "$*"; }

# trunk and wasm-bindgen only orchestrate and post-process the build, so their own speed hardly
# matters; their release profiles (fat LTO, one codegen unit) cost ~15 of a fresh machine's
# first 20 minutes on 2 cores. Thin builds of them take a third of that: trunk unoptimised
# (it spawns cargo, wasm-bindgen and wasm-opt and copies a few files), wasm-bindgen at
# opt-level 1 (it rewrites the whole .wasm on every build; unoptimised that takes seconds).
# Both are built without their TLS stacks (ring's C code), which they only need to download
# tools we install ourselves (Trunk.toml pins both versions, so trunk never downloads) or to
# serve https, which we don't.
fast_install() {
    local opt_level=$1
    shift
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt_level" cargo install --locked "$@"
}

# cargo-installed binaries live here; make them visible to this script and its callers' steps.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! rustup target list --installed 2>/dev/null | grep -qx "wasm32-unknown-unknown"; then
    log "adding rustup target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

if [[ "$(trunk --version 2>/dev/null || true)" != "trunk ${TRUNK_VERSION}" ]]; then
    log "installing trunk ${TRUNK_VERSION} (4–7 minutes on 2 cores)"
    fast_install 0 --no-default-features trunk --version "${TRUNK_VERSION}"
fi

if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen ${WASM_BINDGEN_VERSION}" ]]; then
    log "installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION}"
    fast_install 1 --no-default-features --bin wasm-bindgen wasm-bindgen-cli --version "${WASM_BINDGEN_VERSION}"
fi

if ! wasm-opt --version 2>/dev/null | grep -q "(${WASM_OPT_VERSION})"; then
    log "installing wasm-opt (npm binaryen@${BINARYEN_VERSION})"
    npm install -g --no-audit --no-fund "binaryen@${BINARYEN_VERSION}"
    hash -r
fi

if ! command -v brotli >/dev/null; then
    log "installing brotli (the build writes .br siblings of the bundle)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq brotli
fi

# The browser is for the tests only; scripts/run.sh sets FRONTEND_TOOLS_NO_BROWSER=1.
if [[ "${FRONTEND_TOOLS_NO_BROWSER:-}" != 1 ]] && [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    log "installing chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y chromium chromium-driver
fi

log "ok: $(trunk --version), $(wasm-bindgen --version), wasm-opt $(wasm-opt --version | awk '{print $3}'), $(/usr/bin/chromium --version 2>/dev/null | head -n1 || echo 'no browser')"
