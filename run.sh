#!/usr/bin/env bash
# Set-up and entry point of the LSTM-OCR example. On a fresh machine:
#   ./run.sh train [lstm_ocr_train.py options]   creates .venv, fetches fonts, trains on font/
#   ./run.sh test  [pytest options]              the same set-up, then the test suite
# Set-up is skipped when requirements.txt has not changed since the last one.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "Creating virtual environment in $VENV" >&2
        python3 -m venv "$VENV"
    fi
    if ! cmp -s requirements.txt "$VENV/installed-requirements.txt"; then
        echo "Installing pinned packages from requirements.txt" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
        cp requirements.txt "$VENV/installed-requirements.txt"
    fi
    if ! ls font/*.ttf >/dev/null 2>&1; then
        echo "Copying free fonts into font/" >&2
        "$VENV/bin/python" get_fonts.py font >/dev/null
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
