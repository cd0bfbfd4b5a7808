#!/usr/bin/env bash
# Install dhuman into .venv (or $VENV): the app, and with arguments its extras, e.g.
#   bash scripts/install.sh            the app
#   bash scripts/install.sh dev,kokoro  the app with the test tools and the Kokoro voice
#   bash scripts/install.sh dev,coqui   ... and Coqui TTS (a CPU PyTorch is installed first)
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
# Coqui needs PyTorch, and PyPI's torch is the CUDA build with several GB of nvidia
# packages: install the CPU build first, by its exact local version (+cpu exists only in
# $TORCH_WHEELS, /opt/wheels on the CI machines, or PyTorch's CPU index), so nothing can
# swap in another; the coqui extra itself asks for no torch.
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
if [[ ",$extras," == *,coqui,* ]] &&
  ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__ != '$TORCH_VERSION+cpu')" 2>/dev/null; then
  wheels=${TORCH_WHEELS:-/opt/wheels}
  if compgen -G "$wheels/torch-$TORCH_VERSION+cpu-*.whl" >/dev/null; then
    "$VENV/bin/pip" install -q --find-links "$wheels" "torch==$TORCH_VERSION+cpu"
  else
    "$VENV/bin/pip" install -q --extra-index-url https://download.pytorch.org/whl/cpu \
      "torch==$TORCH_VERSION+cpu"
  fi
fi
target="."
[ -n "$extras" ] && target=".[$extras]"
# --compile-bytecode: uv leaves it to Python to compile each module on first import;
# done then, mid-conversation, a first import held the GIL for tens of ms (the window
# and the audio callback stalled), and with PYTHONDONTWRITEBYTECODE every run paid again
"$VENV/bin/uv" pip install -q --python "$VENV/bin/python" --compile-bytecode \
  --override packaging/uv-overrides.txt -e "$target"
