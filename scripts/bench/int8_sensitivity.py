"""Which weights make ONNX int8 lose accuracy on the 9x9 model: a per-layer sensitivity sweep.

    python scripts/bench/int8_sensitivity.py --artifact ARTIFACT_FP32_ONNX --puzzles 300   # results/int8-sensitivity

For each weight tensor of the fp32 step graph (shared by every recursion call that uses it), the exact
accuracy on held-out minimal puzzles (fixed 16 steps) when ONLY that weight's MatMuls are dynamic int8, and
when every MatMul EXCEPT that weight's is; then the whole graph dynamic int8 and int8 weight-only (int8
storage dequantized at load, fp32 math: the `--int8-scheme weights` export option).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from trm_edge.bench.report import write_results
from trm_edge.datasets.splits import DataSpec, band_split
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.runtime.artifacts import load_runner
from trm_edge.host_loop import solve
from trm_edge.runtime.reference import solve_with_model

REPO = Path(__file__).resolve().parents[2]


def weight_groups(fp32_path: Path) -> dict[str, list[str]]:
    """MatMul node names grouped by the weight they read, directly or through a Transpose (names as in the
    checkpoint; pre-processing keeps node names but renames the folded transposed weights)."""
    from trm_edge.export.onnx_target import matmul_weights

    groups: dict[str, list[str]] = defaultdict(list)
    for node, weight in matmul_weights(fp32_path).items():
        groups[weight].append(node)
    return dict(groups)


def accuracy(model_path: Path, runner, data) -> float:
    """Exact accuracy of `model_path` (a variant of the runner's step graph) from the runner's initial state."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in runner.meta.inputs]
    y0, z0 = runner.initial_state()
    step = lambda x, ids, y, z: sess.run(None, dict(zip(names, [x.astype(np.int32), ids.astype(np.int32), y, z])))
    correct = []
    for i in range(len(data)):
        res = solve(step, y0, z0, data.inputs[i:i + 1], data.puzzle_identifiers[i:i + 1], runner.meta.halt_max_steps)
        correct.append(bool((res.predictions == data.labels[i:i + 1]).all()))
    return float(np.mean(correct))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artifact", type=Path, required=True, help="an fp32 ONNX step artifact of the 9x9 model")
    ap.add_argument("--checkpoint", type=Path, default=REPO / "models" / "sudoku9" / "checkpoint.pt")
    ap.add_argument("--puzzles", type=int, default=300)
    ap.add_argument("--out", type=Path, default=REPO / "results" / "int8-sensitivity")
    args = ap.parse_args()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from trm_edge.export.onnx_target import compress_weights

    runner = load_runner(args.artifact, threads=1)   # verified as exported; its initial state and metadata
    meta = runner.meta
    assert meta.target == "onnx" and meta.quantize == "none" and meta.recursion == "step" and meta.batch == 1
    ckpt = load_checkpoint(args.checkpoint)
    data = band_split(DataSpec.from_saved(ckpt.info["data_spec"]), None, args.puzzles)
    ref = solve_with_model(ckpt.build_model(), data.inputs, data.puzzle_identifiers)
    pytorch = float((ref.predictions == data.labels).all(-1).mean())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(args.artifact / "model.onnx"), str(pre), skip_symbolic_shape=True)
        groups = weight_groups(args.artifact / "model.onnx")
        all_nodes = [n for names in groups.values() for n in names]

        def dynamic(label: str, exclude: list[str]) -> None:
            path = Path(tmp) / "q.onnx"
            quantize_dynamic(str(pre), str(path), per_channel=True, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul", "Gemm"], nodes_to_exclude=exclude)
            record(label, path)

        def record(label: str, path: Path) -> None:
            t0 = time.perf_counter()
            acc = accuracy(path, runner, data)
            rows.append({"variant": label, "exact_accuracy": acc, "drop_points": 100 * (pytorch - acc)})
            print(f"{label:64s} exact {acc:.3f}  drop {100 * (pytorch - acc):+5.1f}  ({time.perf_counter() - t0:.0f} s)",
                  flush=True)

        record("fp32", args.artifact / "model.onnx")
        dynamic("all MatMuls dynamic int8", [])
        for weight, nodes in groups.items():
            dynamic(f"only {weight} ({len(nodes)} MatMuls) int8", [n for n in all_nodes if n not in nodes])
            dynamic(f"all but {weight} int8", nodes)
        token_mixing = [n for w, names in groups.items() if ".mlp_t." in w for n in names]
        dynamic("all but every mlp_t (token-mixing MLP) int8: --int8-scheme dynamic-keep-mlp-t", token_mixing)
        model = onnx.load(str(args.artifact / "model.onnx"))
        compress_weights(model, "int8")
        onnx.save(model, str(Path(tmp) / "w.onnx"))
        record("int8 weight-only (dequantized at load, fp32 math)", Path(tmp) / "w.onnx")
    result = {"puzzles": len(data), "band": "minimal", "halting": "fixed", "pytorch_exact_accuracy": pytorch,
              "rows": rows}
    write_results(args.out, result, table(result))
    print(f"PyTorch exact {pytorch:.3f} on {len(data)} minimal puzzles; wrote {args.out}/results.json and table.md")


def table(result: dict) -> str:
    """The sweep as a page: each variant's exact accuracy and its drop against PyTorch fp32."""
    lines = [f"ONNX dynamic int8 on the 9x9 model, one weight at a time: exact accuracy on {result['puzzles']} held-out "
             f"{result['band']} puzzles, {result['halting']} halting (all 16 steps); PyTorch fp32 "
             f"{result['pytorch_exact_accuracy']:.3f}. A drop is in points against PyTorch (negative: better).", "",
             "| variant | exact | drop (points) |", "|---|---|---|"]
    lines += [f"| {r['variant']} | {r['exact_accuracy']:.3f} | {r['drop_points']:+.1f} |" for r in result["rows"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
