"""What loading an artifact and running one step adds to resident memory, next to the artifact's file size.

    python scripts/bench/runtime_memory.py ARTIFACT [ARTIFACT ...]

Each artifact runs in a fresh process: baseline after its runtime is imported, then load, then one step
(the same measurement as the bench's "+MB" column).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = r"""
import importlib, json, sys
import numpy as np
from trm_edge import targets
from trm_edge.artifact import verify
from trm_edge.bench.worker import _current_rss_mb
folder = sys.argv[1]
meta = verify(folder)
importlib.import_module(targets.get(meta.target).runtime_module)
base = _current_rss_mb()
from trm_edge.runtime.artifacts import load_runner
runner = load_runner(folder, threads=1)
loaded = _current_rss_mb() - base
y, z = runner.initial_state()
runner.step(np.zeros((meta.batch, meta.seq_len), np.int32), np.zeros(meta.batch, np.int32), y, z)
print("MEMORY " + json.dumps({"load_mb": loaded, "load_and_step_mb": _current_rss_mb() - base}))
"""


def measure(folder: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(folder)], capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("MEMORY ")]
    if not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    size_mb = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2 ** 20
    row = json.loads(lines[-1][len("MEMORY "):])
    return {"file_mb": size_mb, **row, "ratio": row["load_and_step_mb"] / size_mb}


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(f"{'artifact':40s} {'file MB':>8s} {'load +MB':>9s} {'+step +MB':>10s} {'x file':>7s}")
    for arg in sys.argv[1:]:
        r = measure(Path(arg))
        if "error" in r:
            print(f"{arg:40s} error: {r['error']}")
            continue
        print(f"{arg:40s} {r['file_mb']:8.1f} {r['load_mb']:9.1f} {r['load_and_step_mb']:10.1f} {r['ratio']:7.1f}")


if __name__ == "__main__":
    main()
