"""Where one ExecuTorch int8 step of the committed 9x9 model spends its time, per kind of XNNPACK op (ETDump, one
thread), at batch 1 and at batch 8 (eight puzzles or copies a call: does a larger M raise the GEMMs' rate?).

    taskset -c 0 python scripts/bench/int8_profile.py [--checkpoint models/sudoku9/checkpoint.pt] [--calls 30]

The whole step's share of the int8 GEMM peak is the throughput study's (`trm-edge study throughput`, which also
names the kernel that set the peak); this script says where the step's time goes and how close its GEMMs alone come
to that peak (the same peak, measured here again). Writes results/int8-profile/.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from executorch_profile import by_kind, profile, split

from trm_edge.bench.report import write_results
from trm_edge.quiet import quiet_native, silence_third_party

REPO = Path(__file__).resolve().parents[2]
BATCHES = (1, 8)
PEAK_BATCH = 64   # the throughput study's large batch: its int8 peak is measured on the step's shapes at this batch


def measure(checkpoint: Path, step_flops: float, batch: int, calls: int, work: Path) -> dict:
    from trm_edge.export import export_checkpoint

    folder = export_checkpoint(checkpoint, "executorch", work / f"int8-b{batch}", quantize="int8", batch=batch,
                               parity_puzzles=0)
    with quiet_native():   # the runtime's start-up chatter (CPU model files it looks for)
        ops = profile(folder, "forward", calls)
    total, gemm, other, ops = split(ops)
    flops = step_flops * batch
    print(f"batch {batch}: {total:.3f} ms a call, GEMMs {gemm:.3f} ms", flush=True)
    return {"batch": batch, "call_ms": total, "gemm_ms": gemm, "other_ops_ms": other,
            "not_in_any_op_ms": total - gemm - other, "step_gops": flops / total / 1e6,
            "gemm_gops": flops / gemm / 1e6, "kinds": [{"op": k, "ms": ms, "count": n} for k, ms, n in by_kind(ops)]}


def int8_peak(model) -> dict:
    """The int8 GEMM peak the throughput study measures each row against (the fastest installed int8 GEMM on the
    step's shapes, one thread), and the kernel that set it."""
    from trm_edge.bench.flops import cpu_precision_peaks, step_gemm_shapes

    shapes = step_gemm_shapes(model, PEAK_BATCH)
    rate, kernel = cpu_precision_peaks(1, shapes)["int8"]
    return {"gops": rate, "kernel": kernel, "shapes": shapes}


def table(result: dict) -> str:
    peak = result["int8_peak"]
    lines = [f"One ExecuTorch int8 step (XNNPACK, dynamic int8 activations) of `{result['checkpoint']}`, one thread, "
             f"median of {result['calls']} calls, {result['created']}. G(FL)OP/s count the step's FLOPs (the GEMMs "
             "are nearly all of them) over the whole call and over the fully-connected GEMMs' time alone. ETDump's "
             "profiling slows a call (the throughput study's step ms is the speed figure); at batch 1 it times the "
             "smallest elementwise ops as 0, so their time shows as in no op.", "",
             f"The int8 GEMM peak: {peak['gops']:.0f} GOP/s, set by {peak['kernel']} (one thread, the step's shapes "
             f"at batch {PEAK_BATCH}, as the throughput study measures it).", "",
             "| batch | ms a call | GEMMs ms | other ops ms | in no op ms | step G(FL)OP/s | GEMMs alone G(FL)OP/s "
             "| GEMMs alone / int8 peak |", "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['batch']} | {r['call_ms']:.3f} | {r['gemm_ms']:.3f} | {r['other_ops_ms']:.3f} "
                     f"| {r['not_in_any_op_ms']:.3f} | {r['step_gops']:.0f} | {r['gemm_gops']:.0f} "
                     f"| {r['gemm_gops'] / peak['gops']:.0%} |")
    for r in result["rows"]:
        lines += ["", f"Batch {r['batch']}, per kind of op:", "", "| op | ms | count |", "|---|---|---|"]
        lines += [f"| {k['op']} | {k['ms']:.3f} | {k['count']} |" for k in r["kinds"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, default=REPO / "models" / "sudoku9" / "checkpoint.pt")
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--out", type=Path, default=REPO / "results" / "int8-profile")
    args = ap.parse_args()
    silence_third_party()
    from trm_edge.bench.flops import step_cost
    from trm_edge.model.checkpoint import load_checkpoint

    model = load_checkpoint(args.checkpoint).build_model()
    step_flops = step_cost(model)["step_flops"]
    with tempfile.TemporaryDirectory() as work:
        rows = [measure(args.checkpoint, step_flops, b, args.calls, Path(work)) for b in BATCHES]
    result = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), "calls": args.calls, "int8_peak": int8_peak(model),
              "checkpoint": str(args.checkpoint.relative_to(REPO) if args.checkpoint.is_relative_to(REPO)
                                else args.checkpoint), "rows": rows}
    write_results(args.out, result, table(result))
    print(table(result))


if __name__ == "__main__":
    main()
