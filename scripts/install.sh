#!/usr/bin/env bash
# Install trm-edge with every export runtime into the current Python.
# torch is pinned to 2.13.0 first so pip takes the CPU build (a bare `torch` can pull a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m pip install -q --disable-pip-version-check "torch==2.13.0"
$PY -m pip install -q --disable-pip-version-check -e ".[export,dev]"
