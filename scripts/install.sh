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

# The browser demo (trm-edge web): ONNX Runtime Web from the npm registry, pinned by trm_edge/web/package-lock.json,
# into the cache folder trm-edge reads (TRM_EDGE_CACHE). Headless Chromium for its tests comes from Debian.
WEB_DIR=${TRM_EDGE_CACHE:-$HOME/.cache/trm-edge}/web
if command -v npm >/dev/null 2>&1; then
  mkdir -p "$WEB_DIR"
  cp trm_edge/web/package.json trm_edge/web/package-lock.json "$WEB_DIR/"
  (cd "$WEB_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
else
  echo "npm not found: trm-edge web (the browser demo) will not build pages until ONNX Runtime Web is installed"
fi
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && \
    apt-get install -y -qq chromium >/dev/null 2>&1)) || echo "chromium could not be installed: the browser tests will skip"
fi
