"""Where ExecuTorch's XNNPACK programs spend a call, per kind of op (ETDump, one thread), and how close their
fully-connected GEMMs alone come to the GEMM peak of the precision they compute in: is a row's distance from its
peak the graph's (elementwise ops, the call) or the kernel's?

    taskset -c 0 python scripts/bench/xnnpack_profile.py [--calls 30] [--only LABEL]

Cases: the 9x9 int8 step at batch 1 and 8 (eight puzzles or copies a call: does a larger M raise the GEMMs'
rate?), and the paper-size fp32 `net` programs (untrained sudoku-att and sudoku-mlp: speed only). The whole
programs' shares of their peaks are the studies' (`trm-edge study throughput`, `trm-edge study paper-int8`, which
also name the kernel that set each peak); the peaks here are measured again the same way. Writes
results/xnnpack-profile/.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from executorch_profile import by_kind, profile, split

from trm_edge.bench.report import write_results
from trm_edge.bench.studies.base import UNTRAINED, untrained_preset
from trm_edge.targets.precision import Precision
from trm_edge.quiet import quiet_native, silence_third_party

REPO = Path(__file__).resolve().parents[2]
PEAK_BATCH = 64   # the throughput study's large batch: peaks are the fastest GEMM on the step's shapes at 1 and this


@dataclass(frozen=True)
class Case:
    """One ExecuTorch program to profile: the model (a checkpoint, or untrained:PRESET), how it is exported,
    and the batches it is profiled at."""

    label: str
    model: str
    recursion: str
    precision: Precision   # also the peak it is read against: int8 (dynamic int8 activations) or fp32
    batches: tuple[int, ...]

    @property
    def method(self) -> str:
        return "net" if self.recursion == "net" else "forward"


CASES = (Case("9x9 int8 step", "models/sudoku9/checkpoint.pt", "step", Precision.INT8, (1, 8)),
         Case("sudoku-att fp32 net", UNTRAINED + "sudoku-att", "net", Precision.FP32, (1,)),
         Case("sudoku-mlp fp32 net", UNTRAINED + "sudoku-mlp", "net", Precision.FP32, (1,)))


def call_flops(model, case: Case, batch: int) -> tuple[float, float]:
    """(all FLOPs, the linear layers' FLOPs) of one call of the case's method, counted on the graph it exports
    (attention's own matmuls are FLOPs of the call but not of its fully-connected GEMMs)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from trm_edge.export.graphs import example_step_inputs, net_call_graphs

    if case.recursion == "net":
        graph, example = net_call_graphs(model, batch)["net"]
        run = lambda: graph(*example)   # noqa: E731
    else:
        run = lambda: model.infer_step(*example_step_inputs(model, batch))   # noqa: E731
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        run()
    by_op = {str(op): n for op, n in counter.get_flop_counts()["Global"].items()}
    linear = sum(n for op, n in by_op.items() if op.split(".")[-1] in ("mm", "addmm"))
    return float(counter.get_total_flops()), float(linear)


def checkpoint_of(case: Case, work: Path) -> Path:
    from trm_edge.train.untrained import untrained_checkpoint

    preset = untrained_preset(case.model)
    return REPO / case.model if preset is None else untrained_checkpoint(preset, work / preset / "checkpoint.pt")


def measure(case: Case, checkpoint: Path, model, batch: int, calls: int, work: Path) -> dict:
    """One profiled export of the case at `batch` (`model`: the checkpoint's, for counting FLOPs)."""
    from trm_edge.export import export_checkpoint

    folder = export_checkpoint(checkpoint, "executorch", work / f"{case.label}-b{batch}".replace(" ", "-"),
                               recursion=case.recursion, quantize=case.precision.value, batch=batch, parity_puzzles=0)
    with quiet_native():   # the runtime's start-up chatter (CPU model files it looks for)
        ops = profile(folder, case.method, calls)
    total, gemm, other, ops = split(ops)
    flops, linear = call_flops(model, case, batch)
    print(f"{case.label}, batch {batch}: {total:.3f} ms a call, GEMMs {gemm:.3f} ms", flush=True)
    return {"case": case.label, "batch": batch, "call_ms": total, "gemm_ms": gemm, "other_ops_ms": other,
            "not_in_any_op_ms": total - gemm - other, "call_gflops": flops / total / 1e6,
            "gemm_gflops": linear / gemm / 1e6, "kinds": [{"op": k, "ms": ms, "count": n} for k, ms, n in by_kind(ops)]}


def peak(case: Case, model) -> dict:
    """The GEMM peak of the case's precision, measured as the bench measures it (the fastest installed GEMM on
    the step's shapes at batch 1 and PEAK_BATCH, one thread), and the kernel that set it."""
    from trm_edge.bench.flops import cpu_precision_peaks, peak_gemm_shapes

    shapes = peak_gemm_shapes(model, PEAK_BATCH)
    rate, kernel = cpu_precision_peaks(1, shapes)[case.precision.label]
    return {"case": case.label, "precision": case.precision.label, "gflops": rate, "kernel": kernel, "shapes": shapes}


def table(result: dict) -> str:
    peaks = {p["case"]: p for p in result["peaks"]}
    lines = [f"ExecuTorch programs (XNNPACK; int8: dynamic int8 activations), one thread, median of {result['calls']} "
             f"calls, {result['created']}. A call's G(FL)OP/s count all its FLOPs over the whole call; the GEMMs' "
             "count the linear layers' FLOPs over the fully-connected GEMMs' time alone. ETDump's profiling slows a "
             "call (the studies' step ms are the speed figures); at batch 1 it times the smallest elementwise ops "
             "as 0, so their time shows as in no op.", "",
             "Each case's GEMM peak (one thread, the fastest installed GEMM on the step's shapes at batch 1 and "
             f"{PEAK_BATCH}, as the bench measures it):", "",
             "| case | precision | peak G(FL)OP/s | set by |", "|---|---|---|---|"]
    lines += [f"| {p['case']} | {p['precision']} | {p['gflops']:.0f} | {p['kernel']} |" for p in result["peaks"]]
    lines += ["", "| case | batch | ms a call | GEMMs ms | other ops ms | in no op ms | call G(FL)OP/s "
                  "| GEMMs alone G(FL)OP/s | call / peak | GEMMs alone / peak |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        top = peaks[r["case"]]["gflops"]
        lines.append(f"| {r['case']} | {r['batch']} | {r['call_ms']:.3f} | {r['gemm_ms']:.3f} | {r['other_ops_ms']:.3f} "
                     f"| {r['not_in_any_op_ms']:.3f} | {r['call_gflops']:.0f} | {r['gemm_gflops']:.0f} "
                     f"| {r['call_gflops'] / top:.0%} | {r['gemm_gflops'] / top:.0%} |")
    for r in result["rows"]:
        lines += ["", f"{r['case']}, batch {r['batch']}, per kind of op:", "", "| op | ms | count |", "|---|---|---|"]
        lines += [f"| {k['op']} | {k['ms']:.3f} | {k['count']} |" for k in r["kinds"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=30)
    ap.add_argument("--only", choices=[c.label for c in CASES], help="profile one case (results are not written)")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "xnnpack-profile")
    args = ap.parse_args()
    silence_third_party()
    from trm_edge.model.checkpoint import load_checkpoint

    cases = [c for c in CASES if args.only in (None, c.label)]
    rows, peaks = [], []
    with tempfile.TemporaryDirectory() as work:
        for case in cases:
            checkpoint = checkpoint_of(case, Path(work))
            model = load_checkpoint(checkpoint).build_model()
            rows += [measure(case, checkpoint, model, b, args.calls, Path(work)) for b in case.batches]
            peaks.append(peak(case, model))
    result = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), "calls": args.calls, "peaks": peaks, "rows": rows,
              "models": {c.label: c.model for c in cases}}
    if args.only is None:
        write_results(args.out, result, table(result))
    print(table(result))


if __name__ == "__main__":
    main()
