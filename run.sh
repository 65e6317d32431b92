#!/usr/bin/env bash
# Set-up and entry point of the LSTM-OCR example. On a fresh machine:
#   ./run.sh train [lstm_ocr_train.py options]   creates .venv, copies fonts, trains on font/
#   ./run.sh test  [pytest options]              the same set-up, then the test suite
# Package installs are skipped when requirements.txt has not changed since the last one.
# As root with apt-get, set-up also installs the Debian font packages common/fonts.py lists once,
# for font_wide/ and unseen_wide/ (the robust recipe's fonts); elsewhere it says it skipped them.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "Creating virtual environment in $VENV" >&2
        python3 -m venv "$VENV"
        # mxnet imports distutils, and setuptools' shim answers that by importing all of
        # setuptools: a quarter of a second on every start. Nothing here needs setuptools.
        "$VENV/bin/python" -m pip uninstall --quiet --disable-pip-version-check -y setuptools
    fi
    if ! cmp -s requirements.txt "$VENV/installed-requirements.txt"; then
        echo "Installing pinned packages from requirements.txt" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
        cp requirements.txt "$VENV/installed-requirements.txt"
    fi
    # cheap, and keeps font/ in step with tools/get_fonts.py's lists
    "$VENV/bin/python" tools/get_fonts.py font >/dev/null
    "$VENV/bin/python" tools/get_fonts.py --unseen unseen >/dev/null
    debian_fonts
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1
}

debian_fonts() {
    local missing
    missing=$("$VENV/bin/python" -c 'from common.fonts import missing_packages; print(*missing_packages())')
    if [ -n "$missing" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "Installing Debian font packages for font_wide/ (once)" >&2
            # a machine whose package lists are missing or stale needs one update first
            apt_install $missing || { apt-get update -q >/dev/null && apt_install $missing; } \
                || echo "apt-get could not install them all" >&2
        else
            echo "Skipping the Debian font packages for font_wide/ (needs root and apt-get)" >&2
            return
        fi
    fi
    if [ ! -d font_wide ] || [ ! -d unseen_wide ]; then  # tools/get_fonts.py says why it could not
        "$VENV/bin/python" tools/get_fonts.py --wide font_wide >/dev/null \
            && "$VENV/bin/python" tools/get_fonts.py --wide --unseen unseen_wide >/dev/null || true
    fi
}

command=${1:-}
shift || true
case "$command" in
    train) setup; exec "$VENV/bin/python" lstm_ocr_train.py "$@" font/ ;;
    test)  setup; exec "$VENV/bin/python" -m pytest "$@" ;;
    setup) setup ;;
    *) echo "usage: ./run.sh train|test|setup [options]" >&2; exit 2 ;;
esac
