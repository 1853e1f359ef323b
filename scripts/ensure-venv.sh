#!/usr/bin/env bash
# Create .venv if it is missing and install the project into it (editable).
#   scripts/ensure-venv.sh            -> pip install -e .
#   scripts/ensure-venv.sh test       -> pip install -e '.[test]'
# The install is skipped when pyproject.toml has not changed since the last one.
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

spec="."
[ -n "$EXTRAS" ] && spec=".[$EXTRAS]"
stamp="$VENV/.installed-${EXTRAS:-base}"
digest="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
    exit 0
fi
echo "==> pip install -e '$spec'"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Quiet unless it fails (setuptools prints build warnings even with -q).
if ! PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q -e "$spec" >"$log" 2>&1; then
    cat "$log" >&2
    echo "error: pip install -e '$spec' failed." >&2
    exit 1
fi
echo "$digest" >"$stamp"
