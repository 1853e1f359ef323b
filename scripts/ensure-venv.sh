#!/usr/bin/env bash
# Create .venv if it is missing and install the project into it (editable), from the lock files:
# exact versions with their hashes (pip --require-hashes), then the project itself without
# dependencies. The lock files are generated from pyproject.toml (make lock).
#   scripts/ensure-venv.sh            -> requirements/lock.txt (the app, with PostgreSQL's driver)
#   scripts/ensure-venv.sh postgres   -> the same
#   scripts/ensure-venv.sh test       -> requirements/lock-test.txt (and the test tools)
# The install is skipped when pyproject.toml and the lock file have not changed since the last one.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
EXTRAS="${1:-}"

pick_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

can_apt() {
    command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

if [ ! -x "$VENV/bin/python" ]; then
    if ! PY="$(pick_python)"; then
        echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
        exit 1
    fi
    echo "==> creating $VENV with $("$PY" --version)"
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        # Debian and Ubuntu ship venv separately.
        if can_apt; then
            echo "==> installing python3-venv"
            as_root apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            "$PY" -m venv "$VENV"
        else
            echo "error: '$PY -m venv' failed; install python3-venv." >&2
            exit 1
        fi
    fi
fi

lock="requirements/lock.txt"
[ "$EXTRAS" = "test" ] && lock="requirements/lock-test.txt"
stamp="$VENV/.installed-${EXTRAS:-base}"
digest="$(cat pyproject.toml "$lock" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
    exit 0
fi
echo "==> pip install --require-hashes -r $lock, then the project (-e . --no-deps)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
pip() { PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip "$@"; }
# Quiet unless it fails (setuptools prints build warnings even with -q). The lock holds
# setuptools too, so the project builds with the pinned one (no unpinned build isolation).
if ! pip install -q --require-hashes -r "$lock" >"$log" 2>&1 ||
    ! pip install -q --no-deps --no-build-isolation -e . >>"$log" 2>&1; then
    cat "$log" >&2
    echo "error: installing from $lock failed." >&2
    exit 1
fi
echo "$digest" >"$stamp"
