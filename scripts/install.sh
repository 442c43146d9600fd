#!/usr/bin/env bash
# Install trm-edge with every export runtime into the current Python, and its helper environments.
# torch is pinned to 2.13.0 first so pip takes the CPU build (a bare `torch` can pull a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PIP="$PY -m pip install -q --disable-pip-version-check"
$PIP "torch==2.13.0"
$PIP -e ".[train,export,npu,dev]"

# Helper environments, in the cache folder (TRM_EDGE_CACHE, default ~/.cache/trm-edge); `trm-edge setup` builds
# them on any installed copy too. litert: litert-torch in its own venv (its pins conflict with coremltools').
# web: ONNX Runtime Web from npm, pinned by trm_edge/web/package-lock.json (the browser demo).
$PY -m trm_edge setup litert
if command -v npm >/dev/null 2>&1; then
  $PY -m trm_edge setup web
else
  echo "npm not found: trm-edge web (the browser demo) will not build pages until \`trm-edge setup web\` has run"
fi
# Headless Chromium for the browser tests comes from Debian.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && \
    apt-get install -y -qq chromium >/dev/null 2>&1)) || echo "chromium could not be installed: the browser tests will skip"
fi
