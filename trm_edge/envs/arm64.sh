#!/usr/bin/env bash
# Build, once, the emulated ARM64 environment that `trm-edge check-arm` runs artifacts in:
#   an arm64 Debian bookworm root filesystem (debootstrap --foreign: packages unpacked on this host, no
#   second stage, so no binfmt_misc is needed) with Python 3.11, and the aarch64 wheels of numpy, onnxruntime
#   and ai-edge-litert at this host's versions (parity compares one runtime version on two ISAs).
# Programs run under qemu-user (`qemu-aarch64-static -L ROOT`). Everything comes from Debian's and PyPI's
# registries; nothing is downloaded when the check runs.
#
# Run by `trm-edge setup arm64 [--rebuild]`, which passes the folder to fill (an empty staging folder beside the
# cache folder's arm64/, swapped in when this script succeeds) and the Python whose package versions the wheels
# must match.
#   DEST=... PY=... bash arm64.sh
set -euo pipefail
: "${DEST:?}" "${PY:?}"
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if ! command -v qemu-aarch64-static >/dev/null || ! command -v debootstrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing qemu-user-static and debootstrap (Debian packages) ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static debootstrap >/dev/null
  else
    echo "error: needs qemu-user-static and debootstrap (sudo apt-get install qemu-user-static debootstrap)" >&2
    exit 2
  fi
fi

WORK="$DEST"
echo "[1/4] arm64 Debian bookworm with python3 from $MIRROR (first stage only) ..."
debootstrap --foreign --arch=arm64 --variant=minbase --include=python3 bookworm "$WORK/root" "$MIRROR" \
  > "$WORK/debootstrap.log" 2>&1 || { echo "error: debootstrap failed:" >&2; tail -3 "$WORK/debootstrap.log" >&2; exit 1; }
echo "[2/4] unpacking every downloaded package (no second stage: nothing needs configuring to run Python) ..."
for deb in "$WORK"/root/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$WORK/root"; done
rm -f "$WORK"/root/var/cache/apt/archives/*.deb

# qemu-user shows programs the host's x86 /proc/cpuinfo; the cpuinfo library inside ONNX Runtime finds no ARM
# core there and crashes (SIGSEGV at import). qemu -L serves this file instead: two Cortex-A76 cores (a phone
# big core) with the NEON fp16 and dot-product features. The instructions that really run are set by -cpu.
mkdir -p "$WORK/root/proc"
for i in 0 1; do
  printf 'processor\t: %s\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x4\nCPU part\t: 0xd0b\nCPU revision\t: 1\n\n' "$i"
done > "$WORK/root/proc/cpuinfo"

echo "[3/4] aarch64 wheels (this host's versions) ..."
version() { $PY -I -c "import importlib.metadata as m; print(m.version('$1'))"; }
PLATFORMS="--platform manylinux_2_28_aarch64 --platform manylinux_2_27_aarch64 --platform manylinux_2_17_aarch64 --platform manylinux2014_aarch64"
$PY -I -m pip install -q --disable-pip-version-check --target "$WORK/root/opt/trm-edge-site" $PLATFORMS \
  --python-version 3.11 --implementation cp --abi cp311 --only-binary=:all: \
  "numpy==$(version numpy)" "onnxruntime==$(version onnxruntime)" "ai-edge-litert==$(version ai-edge-litert)" \
  typer tqdm 2>&1 | grep -v -e "^WARNING: Location" -e "^WARNING: Running pip as" -e "dependency conflicts" \
  -e "requires .*, but you have" || true

echo "[4/4] checking that each runtime imports on ARM64 ..."
QEMU_CPU=${QEMU_CPU:?}   # passed by trm-edge setup (the CPU model check-arm uses)
run_arm() {
  PYTHONPATH="$WORK/root/opt/trm-edge-site" qemu-aarch64-static -cpu "$QEMU_CPU" -L "$WORK/root" \
    "$WORK/root/usr/bin/python3" "$@"
}
run_arm -c "import platform, numpy, onnxruntime; from ai_edge_litert.interpreter import Interpreter; \
assert platform.machine() == 'aarch64', platform.machine()"
run_arm - "$(qemu-aarch64-static --version | head -1)" > "$WORK/env.json" <<'EOF'
import json, platform, sys
from importlib import metadata
print(json.dumps({
    "machine": platform.machine(), "python": platform.python_version(), "qemu": sys.argv[1],
    "modules": {m: metadata.version(d) for m, d in (("onnxruntime", "onnxruntime"), ("ai_edge_litert", "ai-edge-litert"),
                                                   ("numpy", "numpy"))},
    "missing": {"executorch": "ExecuTorch's Python runtime imports torch, and the only aarch64 torch 2.13 on PyPI is "
                              "the CUDA 13 build: its libtorch_cpu.so links libcudart and libcupti, whose aarch64 "
                              "wheels (nvidia-cuda-cupti 13.0.85) are not in this machine's package registry, and "
                              "the CPU-only aarch64 build is on download.pytorch.org, which it cannot reach",
                "coreml": "Core ML runs on Apple devices only"},
}, indent=2))
EOF
echo "ARM64 environment complete ($(du -sh "$WORK" | cut -f1)); run: trm-edge check-arm ARTIFACT ..."
