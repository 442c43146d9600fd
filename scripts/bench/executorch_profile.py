"""Where one call of an ExecuTorch program's method spends its time, per XNNPACK op (ETDump, 1 thread).

    python scripts/bench/executorch_profile.py ARTIFACT [--method net] [--calls 5] [--by-kind]

Runs the method on zero inputs of its exported shapes (`metadata.json`: a net program's methods, or the
step's inputs), then prints the median time of each op over the calls, largest first (`--by-kind`: summed per
kind of op, e.g. every fully-connected GEMM together), the share of the fully-connected GEMMs, and the time of
the call that no op accounts for (the delegate's own work between ops and the portable kernels around it).
"""
from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path


def profile(folder: Path, method: str, calls: int) -> list[tuple[str, float]]:
    import numpy as np
    import torch
    from executorch.devtools import Inspector
    from executorch.extension.pybindings.portable_lib import _load_for_executorch, _unsafe_reset_threadpool

    meta = json.loads((folder / "metadata.json").read_text())
    specs = meta["extra"]["methods"][method]["inputs"] if "methods" in meta["extra"] else meta["inputs"]
    inputs = tuple(torch.from_numpy(np.zeros(s["shape"], dtype=s["dtype"])) for s in specs)
    torch.set_num_threads(1)
    _unsafe_reset_threadpool(1)
    program = _load_for_executorch(str(folder / meta["model_file"]), enable_etdump=True, debug_buffer_size=0)
    for _ in range(calls):
        program.run_method(method, inputs)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "run.etdp")
        program.write_etdump_result_to_file(path, None)
        blocks = Inspector(etdump_path=path).event_blocks
    rows = []
    for block in blocks:
        if block.name != "Execute":
            continue
        for event in block.events:
            if event.perf_data is not None:
                rows.append((event.name, float(np.median(event.perf_data.raw))))
    return sorted(rows, key=lambda r: -r[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("artifact", type=Path)
    ap.add_argument("--method", default=None, help="net, embed or heads of a net program (default: net, or forward)")
    ap.add_argument("--calls", type=int, default=5)
    ap.add_argument("--by-kind", action="store_true", help="sum the ops of each kind")
    args = ap.parse_args()
    meta = json.loads((args.artifact / "metadata.json").read_text())
    method = args.method or ("net" if "methods" in meta["extra"] else "forward")
    total, gemm, other, ops = split(profile(args.artifact, method, args.calls))
    print(f"{method}: {total:.2f} ms per call (median of {args.calls}), fully-connected GEMMs {gemm:.2f} ms "
          f"({100 * gemm / total:.0f}%), other ops {other:.2f} ms, not in any op {total - gemm - other:.2f} ms "
          f"({100 * (total - gemm - other) / total:.0f}%)")
    shown = by_kind(ops) if args.by_kind else [(name, ms, 1) for name, ms in ops[:20]]
    for name, ms, count in shown:
        print(f"  {ms:8.3f} ms  x{count:<3d} {name}")


def split(rows: list[tuple[str, float]]) -> tuple[float, float, float, list[tuple[str, float]]]:
    """A profile's call time, its fully-connected GEMMs' time, the other ops' time, and the ops alone (the call
    and delegate events are not ops: what no op accounts for is the call less the two sums)."""
    total = next((ms for name, ms in rows if name == "Method::execute"), sum(ms for _, ms in rows))
    ops = [(name, ms) for name, ms in rows if name not in ("Method::execute", "DELEGATE_CALL")]
    gemm = sum(ms for name, ms in ops if name.startswith("Fully Connected"))
    return total, gemm, sum(ms for _, ms in ops) - gemm, ops


def by_kind(ops: list[tuple[str, float]]) -> list[tuple[str, float, int]]:
    """Ops summed per kind (the numbered instances of one XNNPACK operator together), largest first."""
    kinds: dict[str, list[float]] = {}
    for name, ms in ops:
        kinds.setdefault(re.sub(r" #\d+$", "", name), []).append(ms)
    return sorted(((k, sum(v), len(v)) for k, v in kinds.items()), key=lambda r: -r[1])


if __name__ == "__main__":
    main()
