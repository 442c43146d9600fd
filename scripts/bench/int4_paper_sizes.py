"""int4 against int8 file size at paper size, where the weights (not the graph) fill the file.

Untrained paper-size checkpoints (trm_edge.train.untrained: sizes and graphs are real, answers are not)
exported by ONNX and ExecuTorch in int8 and int4 (GPTQ-chosen codes, the token mixer in int8), no parity check.

    taskset -c 1 python scripts/bench/int4_paper_sizes.py [--presets sudoku-mlp sudoku-att] [--out results/int4-paper]

Writes OUT/results.json and OUT/table.md (generated from it).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from trm_edge.artifact import folder_size, read_meta
from trm_edge.bench.report import write_results
from trm_edge.export import export_checkpoint
from trm_edge.train.untrained import untrained_checkpoint

REPO = Path(__file__).resolve().parents[2]
VARIANTS = [("onnx", "step"), ("executorch", "net")]   # ExecuTorch at paper size ships --recursion net


def measure(preset: str, work: Path) -> list[dict]:
    checkpoint = untrained_checkpoint(preset, work / f"{preset}.pt")
    rows = []
    for target, recursion in VARIANTS:
        sizes = {}
        for precision in ("int8", "int4"):
            folder = export_checkpoint(checkpoint, target, work / f"{preset}-{target}-{precision}",
                                       recursion=recursion, quantize=precision, parity_puzzles=0)
            sizes[precision] = folder_size(folder, read_meta(folder).model_file)
            print(f"{preset} {target} {precision}: {sizes[precision] / 1e6:.2f} MB", flush=True)
        rows.append({"preset": preset, "target": target, "recursion": recursion, "int8_bytes": sizes["int8"],
                     "int4_bytes": sizes["int4"], "int4_over_int8": sizes["int4"] / sizes["int8"]})
    return rows


def table(result: dict) -> str:
    lines = [f"Paper-size presets, untrained weights (sizes only), {result['created']}: int4 (GPTQ codes, token mixer "
             "int8) against int8, file size. Goal: int4 <= 0.6x int8.", "",
             "| preset | target | recursion | int8 MB | int4 MB | int4 / int8 |", "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['preset']} | {r['target']} | {r['recursion']} | {r['int8_bytes'] / 1e6:.2f} "
                     f"| {r['int4_bytes'] / 1e6:.2f} | {r['int4_over_int8']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presets", nargs="+", default=["sudoku-mlp", "sudoku-att"])
    ap.add_argument("--out", type=Path, default=REPO / "results" / "int4-paper")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        rows = [row for preset in args.presets for row in measure(preset, Path(work))]
    result = {"created": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows}
    write_results(args.out, result, table(result))
    print(table(result))


if __name__ == "__main__":
    main()
