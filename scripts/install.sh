#!/usr/bin/env bash
# Install dhuman into .venv (or $VENV): the app, and with arguments its extras, e.g.
#   bash scripts/install.sh            the app
#   bash scripts/install.sh dev,kokoro  the app with the test tools and the Kokoro voice
# uv resolves with packaging/uv-overrides.txt so that mediapipe's GUI OpenCV build (which
# bundles Qt 5) is never installed next to PySide6.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
extras=${1:-}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if [ ! -x "$VENV/bin/uv" ]; then
  "$VENV/bin/pip" install -q uv
fi
target="."
[ -n "$extras" ] && target=".[$extras]"
"$VENV/bin/uv" pip install -q --python "$VENV/bin/python" \
  --override packaging/uv-overrides.txt -e "$target"
