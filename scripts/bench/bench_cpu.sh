#!/usr/bin/env bash
# Benchmark every artifact beside PyTorch on this CPU (1 thread and the physical cores; fixed steps vs ACT halting).
set -euo pipefail
cd "$(dirname "$0")/../.."
ART=${ART:-artifacts}
trm-edge bench "$ART"/* --halting fixed,act --puzzles 200 --out results/default
