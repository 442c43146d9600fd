"""Where one call of an ExecuTorch program's method spends its time, per XNNPACK op (ETDump, 1 thread).

    python scripts/bench/executorch_profile.py ARTIFACT [--method net] [--calls 5]

Runs the method on zero inputs of its exported shapes (`metadata.json`: a net program's methods, or the
step's inputs), then prints the median time of each op over the calls, largest first, and the share of
the fully-connected GEMMs.
"""
from __future__ import annotations

import argparse
import json
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
    args = ap.parse_args()
    meta = json.loads((args.artifact / "metadata.json").read_text())
    method = args.method or ("net" if "methods" in meta["extra"] else "forward")
    rows = profile(args.artifact, method, args.calls)
    total = next((ms for name, ms in rows if name == "Method::execute"), sum(ms for _, ms in rows))
    ops = [(name, ms) for name, ms in rows if name not in ("Method::execute", "DELEGATE_CALL")]
    gemm = sum(ms for name, ms in ops if name.startswith("Fully Connected"))
    print(f"{method}: {total:.2f} ms per call (median of {args.calls}), fully-connected GEMMs {gemm:.2f} ms "
          f"({100 * gemm / total:.0f}%), other ops {sum(ms for _, ms in ops) - gemm:.2f} ms")
    for name, ms in ops[:20]:
        print(f"  {ms:8.3f} ms  {name}")


if __name__ == "__main__":
    main()
