"""The 9x9 model where accuracy can move: halting rules and every export, per difficulty band.

    python scripts/bench/sudoku9_report.py halting --puzzles 1000 --out results/sudoku9
    python scripts/bench/sudoku9_report.py exports --puzzles 1000 --out results/sudoku9
    python scripts/bench/sudoku9_report.py tables --out results/sudoku9      # report.md from the two JSON files

`halting`: exact accuracy and mean supervision steps of PyTorch with fixed 16 steps, the official ACT rule
(q_halt > 0) and stable-K (answer unchanged for K steps), on held-out puzzles with 30-45 givens and on
minimal puzzles (no given can be removed).
`exports`: each target/recursion/precision exported from the same checkpoint, run on the same puzzles as
PyTorch (fixed halting), with the paired accuracy difference and its 95% interval, cell and halting agreement.
Core ML cannot run off macOS: its rows are PyTorch with the weights read back from the package.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path


from trm_edge.datasets.splits import DataSpec, band_split
from trm_edge.export.parity import compare, coreml_weights_check
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.runtime.artifacts import UnsupportedOnHost, load_runner
from trm_edge.runtime.reference import solve_with_model

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHECKPOINT = REPO / "models" / "sudoku9" / "checkpoint.pt"
BANDS = {"30-45 givens": (30, 45), "minimal": None}
HALTING = ("fixed", "act", "stable-2", "stable-3")
# (target, recursion, quantize, calibration, extra export flags)
VARIANTS = [("onnx", "step", "none", 0, ()), ("onnx", "step", "fp16", 0, ()), ("onnx", "step", "int8", 0, ()),
            ("onnx", "step", "int8", 256, ()),
            ("onnx", "step", "int8", 0, ("--int8-scheme", "dynamic-keep-mlp-t")),
            ("onnx", "step", "int8", 0, ("--int8-scheme", "weights")), ("onnx", "unrolled", "none", 0, ()),
            ("executorch", "step", "none", 0, ()), ("executorch", "step", "fp16", 0, ()), ("executorch", "step", "int8", 0, ()),
            ("executorch", "step", "int8", 256, ()),
            ("tflite", "step", "none", 0, ()), ("tflite", "step", "int8", 0, ()),
            ("coreml", "step", "none", 0, ()), ("coreml", "step", "fp16", 0, ()), ("coreml", "step", "int8", 0, ()),
            ("coreml", "step", "palette6", 0, ()), ("coreml", "step", "palette4", 0, ())]


def bands(ckpt, count: int) -> dict:
    spec = DataSpec.from_saved(ckpt.info["data_spec"])
    return {name: band_split(spec, band, count) for name, band in BANDS.items()}


def halting_report(ckpt, data: dict) -> list[dict]:
    model = ckpt.build_model()
    rows = []
    for band, ps in data.items():
        for rule in HALTING:
            t0 = time.perf_counter()
            res = solve_with_model(model, ps.inputs, ps.puzzle_identifiers, halting=rule)
            exact = (res.predictions == ps.labels).all(-1)
            rows.append({"band": band, "halting": rule, "puzzles": len(ps), "exact_accuracy": float(exact.mean()),
                         "mean_steps": float(res.steps.mean()), "seconds": time.perf_counter() - t0})
            print(f"{band:14s} {rule:9s} exact {rows[-1]['exact_accuracy']:.3f}  steps {rows[-1]['mean_steps']:.2f}",
                  flush=True)
    return rows


def export_report(ckpt, checkpoint: Path, data: dict, work: Path, only: str | None = None) -> list[dict]:
    """Every variant exported from `checkpoint` and run on every band next to PyTorch."""
    model = ckpt.build_model()
    refs = {band: (solve_with_model(model, ps.inputs, ps.puzzle_identifiers),
                   solve_with_model(model, ps.inputs, ps.puzzle_identifiers, halting="act"))
            for band, ps in data.items()}
    rows = []
    for target, recursion, quantize, calibration, flags in VARIANTS:
        label = (f"{target} {recursion} {quantize}" + (f"-static({calibration})" if calibration else "")
                 + (f" {flags[-1]}" if flags else ""))
        if only and only not in label:
            continue
        folder = work / label.replace(" ", "-").replace("(", "").replace(")", "")
        measured = _export(checkpoint, target, recursion, quantize, calibration, folder, flags)
        if "error" in measured:
            rows.append({"variant": label, "status": f"export failed: {measured['error']}"})
            print(f"{label:36s} export failed: {measured['error']}", flush=True)
            continue
        for band, ps in data.items():
            row = {"variant": label, "band": band, **measured,
                   **_run(folder, model, ps, refs[band], quantize, calibration)}
            rows.append(row)
            print(f"{label:36s} {band:14s} {row.get('status')}: artifact {row.get('exact_accuracy_artifact', 0):.3f} "
                  f"pytorch {row.get('exact_accuracy_pytorch', 0):.3f} cells {row.get('cell_agreement', 0):.4f}",
                  flush=True)
    return rows


def _export(checkpoint: Path, target: str, recursion: str, quantize: str, calibration: int, folder: Path,
            flags: tuple[str, ...] = ()) -> dict:
    """Export in its own process (`trm-edge export`), timed by /usr/bin/time: wall seconds and peak memory."""
    cmd = ["/usr/bin/time", "-f", "EXPORT_COST %e %M", "trm-edge", "export", str(checkpoint), "--target", target,
           "--recursion", recursion, "--quantize", quantize, "--calibration", str(calibration), "--out", str(folder),
           "--overwrite", "--parity-puzzles", "0", *flags]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    cost = [line.split() for line in proc.stderr.splitlines() if line.startswith("EXPORT_COST ")]
    if proc.returncode != 0 or not cost:
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        return {"error": (errors or [proc.stderr.strip()[-200:]])[-1]}
    return {"export_seconds": float(cost[-1][1]), "export_peak_mb": int(cost[-1][2]) / 1024}


def _run(folder: Path, model, ps, refs, quantize: str, calibration: int) -> dict:
    """Fixed-halting parity on `ps`, plus where ACT stops next to where PyTorch's ACT stops."""
    ref, ref_act = refs
    internal = "int8-static" if calibration else quantize
    try:
        runner = load_runner(folder)
    except UnsupportedOnHost:
        check = coreml_weights_check(folder / "model.mlpackage", model, ps, internal)
        return {"status": "weights read back (Core ML cannot run on Linux)", **check}
    t0 = time.perf_counter()
    art = runner.solve(ps.inputs, ps.puzzle_identifiers, halting="fixed")
    out = compare(art, ref, ps, internal)
    if runner.meta.recursion == "step":
        act = runner.solve(ps.inputs, ps.puzzle_identifiers, halting="act")
        out["act_steps_agreement"] = float((act.steps == ref_act.steps).mean())
        out["act_exact_artifact"] = float((act.predictions == ps.labels).all(-1).mean())
        out["act_exact_pytorch"] = float((ref_act.predictions == ps.labels).all(-1).mean())
    return {"status": "ran", "size_kb": sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1024,
            "solve_seconds": time.perf_counter() - t0, **out}


def tables(out: Path) -> str:
    """Markdown tables of whatever halting.json and exports.json hold."""
    lines = []
    if (out / "halting.json").is_file():
        h = json.loads((out / "halting.json").read_text())
        lines += [f"Halting ({h['checkpoint']}, held-out puzzles per band: {h['bands']})", "",
                  "| band | halting | exact accuracy | mean steps |", "|---|---|---|---|"]
        lines += [f"| {r['band']} | {r['halting']} | {r['exact_accuracy']:.3f} | {r['mean_steps']:.2f} |"
                  for r in h["rows"]]
        lines.append("")
    if (out / "exports.json").is_file():
        e = json.loads((out / "exports.json").read_text())
        lines += [f"Exports ({e['checkpoint']}, fixed 16 steps, batch 1, held-out puzzles per band: {e['bands']})", "",
                  "| variant | band | exact (artifact) | exact (PyTorch) | paired diff [95% CI] | cell agreement | "
                  "ACT steps agreement | max abs logit diff | verdict | size KB | export s / peak MB |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in e["rows"]:
            if "band" not in r:
                lines.append(f"| {r['variant']} | - | {r['status']} | | | | | | | | |")
                continue
            lo, hi = r["paired_difference_95ci"]
            run = "" if r["status"] == "ran" else " (weights read back)"
            size = f"{r['size_kb']:.0f}" if "size_kb" in r else "-"
            lines.append(f"| {r['variant']}{run} | {r['band']} | {r['exact_accuracy_artifact']:.3f} | "
                         f"{r['exact_accuracy_pytorch']:.3f} | {100 * r['paired_difference']:+.1f} "
                         f"[{100 * lo:+.1f}, {100 * hi:+.1f}] | {r['cell_agreement']:.4f} | "
                         f"{r.get('act_steps_agreement', float('nan')):.3f} | {r['max_abs_logit_diff']:.2e} | "
                         f"{'ok' if r['within_budget'] else 'FAILED'} | {size} | "
                         f"{r['export_seconds']:.0f} / {r['export_peak_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("halting", "exports", "tables"))
    ap.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    ap.add_argument("--puzzles", type=int, default=1000, help="held-out puzzles per band")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "sudoku9")
    ap.add_argument("--only", help="exports: only variants whose label contains this (e.g. 'onnx step')")
    args = ap.parse_args()
    if args.what == "tables":
        (args.out / "report.md").write_text(tables(args.out))
        print(tables(args.out))
        return
    ckpt = load_checkpoint(args.checkpoint)
    data = bands(ckpt, args.puzzles)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.what == "halting":
        rows = halting_report(ckpt, data)
    else:
        rows = export_report(ckpt, args.checkpoint, data, args.out / "artifacts", args.only)
    path = args.out / f"{args.what}.json"
    if args.only and path.is_file():   # keep the other variants' rows, replace the re-measured ones in place
        redone = {r["variant"] for r in rows}
        kept = [r for r in json.loads(path.read_text())["rows"] if r["variant"] not in redone]
        rows = kept + rows
    record = {"checkpoint": str(args.checkpoint), "puzzles_per_band": args.puzzles,
              "bands": {k: len(v) for k, v in data.items()}, "rows": rows}
    path.write_text(json.dumps(record, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
