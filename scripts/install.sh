#!/usr/bin/env bash
# Install trm-edge with every export runtime into the current Python, plus litert-torch (for TFLite export)
# in its own virtual environment, because its pins conflict with coremltools'.
# torch is pinned to 2.13.0 first so pip takes the CPU build (a bare `torch` can pull a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PIP="$PY -m pip install -q --disable-pip-version-check"
$PIP "torch==2.13.0"
$PIP -e ".[train,export,npu,dev]"

LITERT_ENV=${TRM_EDGE_LITERT_ENV:-$HOME/.cache/trm-edge/litert-env}
if [ ! -x "$LITERT_ENV/bin/python" ] || ! "$LITERT_ENV/bin/python" -c "import litert_torch" 2>/dev/null; then
  echo "creating the litert-torch environment in $LITERT_ENV (TFLite export) ..."
  $PY -m venv --system-site-packages "$LITERT_ENV"
  "$LITERT_ENV/bin/python" -m pip install -q --disable-pip-version-check "litert-torch==0.10.0"
fi
