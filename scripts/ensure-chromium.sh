#!/usr/bin/env bash
# Browser tests drive Debian's chromium. Install it when it is missing and we may use apt-get
# (root or passwordless sudo); otherwise say that the browser tests will skip.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi

skip() {
    echo "note: $1; the browser tests will skip." >&2
    exit 0
}

command -v apt-get >/dev/null 2>&1 || skip "Chromium is not installed and apt-get is not available"
if [ "$(id -u)" = 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    skip "Chromium is not installed (/usr/bin/chromium) and installing it needs root or passwordless sudo"
fi

echo "==> installing chromium with apt-get (for the browser tests)"
if "${SUDO[@]}" apt-get update -qq &&
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    exit 0
fi
if [ "${CI:-}" = "true" ]; then
    echo "error: could not install chromium with apt-get." >&2
    exit 1
fi
skip "installing chromium with apt-get failed"
