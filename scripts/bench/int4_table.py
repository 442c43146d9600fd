"""int4 against int8, per target: file size and the answers on minimal 9x9 puzzles against the 1-point budget.

Every target that offers `--quantize int4` is exported in int8 and int4 from the same checkpoint; each artifact
solves the same held-out minimal puzzles (all N_sup steps, as export parity does) next to PyTorch fp32. Core ML
cannot predict off macOS: its rows read the package's (decompressed) weights back into PyTorch, which measures
the weight compression but not Core ML's arithmetic.

    taskset -c 0 python scripts/bench/int4_table.py [--checkpoint models/sudoku9/checkpoint.pt] [--puzzles 200]

Writes OUT/results.json and OUT/table.md (generated from it; OUT defaults to results/int4).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from trm_edge.bench.report import write_results
from trm_edge import targets
from trm_edge.artifact import folder_size, read_meta
from trm_edge.datasets.splits import DataSpec, held_out
from trm_edge.export import export_checkpoint
from trm_edge.export.parity import parity_report
from trm_edge.model.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
# (target, recursion): every target with int4, in the recursion an app would ship
ROWS = [("onnx", "step"), ("executorch", "step"), ("executorch", "net"), ("coreml", "step")]
KEEP = ("status", "exact_accuracy_artifact", "exact_accuracy_pytorch", "paired_difference", "paired_difference_95ci",
        "cell_agreement", "within_budget")


def measure(ckpt_path: Path, target: str, recursion: str, precision: str, data, work: Path) -> dict:
    folder = export_checkpoint(ckpt_path, target, work / f"{target}-{recursion}-{precision}", recursion=recursion,
                               quantize=precision, parity_puzzles=0)
    meta = read_meta(folder)
    report = parity_report(folder, load_checkpoint(ckpt_path).build_model(), data, meta.quantize)
    how = "run"
    if "weights_readback" in report:   # Core ML off macOS: no run, the weights read back (status failed if over budget)
        report, how = report["weights_readback"], "weights read back into PyTorch"
        report["status"] = "ok" if report["within_budget"] else "failed"
    return {"target": target, "recursion": recursion, "precision": precision, "how": how,
            "size_bytes": folder_size(folder, meta.model_file), "notes": meta.extra.get("notes", []),
            **{k: report.get(k) for k in KEEP}}


def table(result: dict) -> str:
    lines = [f"{result['puzzles']} minimal 9x9 puzzles, all N_sup steps, `{result['checkpoint']}` ({result['created']}); "
             "paired difference to PyTorch fp32 in points [95% CI]; budget: within 1 point.", "",
             "| target | recursion | precision | size KB | int4 / int8 size | exact (PyTorch) | paired diff | "
             "within budget | how |", "|---|---|---|---|---|---|---|---|---|"]
    sizes = {(r["target"], r["recursion"], r["precision"]): r["size_bytes"] for r in result["rows"]}
    for r in result["rows"]:
        ratio = (f"{r['size_bytes'] / sizes[(r['target'], r['recursion'], 'int8')]:.2f}"
                 if r["precision"] == "int4" and (r["target"], r["recursion"], "int8") in sizes else "")
        lo, hi = r["paired_difference_95ci"]
        lines.append(f"| {r['target']} | {r['recursion']} | {r['precision']} | {r['size_bytes'] / 1024:.0f} | {ratio} | "
                     f"{r['exact_accuracy_artifact']:.3f} ({r['exact_accuracy_pytorch']:.3f}) | "
                     f"{100 * r['paired_difference']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}] | "
                     f"{'yes' if r['within_budget'] else 'no'} | {r['how']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, default=REPO / "models" / "sudoku9" / "checkpoint.pt")
    ap.add_argument("--puzzles", type=int, default=200)
    ap.add_argument("--out", type=Path, default=REPO / "results" / "int4")
    args = ap.parse_args()
    ckpt = load_checkpoint(args.checkpoint)
    data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), args.puzzles, "minimal")
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for target, recursion in ROWS:
            if "int4" not in targets.get(target).precisions:
                continue
            for precision in ("int8", "int4"):
                rows.append(measure(args.checkpoint, target, recursion, precision, data, Path(work)))
                print(f"{target} {recursion} {precision}: {rows[-1]['size_bytes'] / 1024:.0f} KB, "
                      f"{100 * rows[-1]['paired_difference']:+.1f} points", flush=True)
    result = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), "puzzles": args.puzzles,
              "checkpoint": str(args.checkpoint.resolve().relative_to(REPO)) if args.checkpoint.resolve().is_relative_to(REPO)
              else str(args.checkpoint), "rows": rows}
    write_results(args.out, result, table(result))
    print(table(result))


if __name__ == "__main__":
    main()
