"""Which weights of a w8a16 / w8a8 graph cost accuracy on the Hexagon NPU: the per-layer error table that a
`--w16-weights` list is chosen from.

    python scripts/bench/qnn_sensitivity.py [--checkpoint models/sudoku9/checkpoint.pt] [--samples 32]
                                            [--out results/qnn-sensitivity]

Every variant is the export's own QDQ graph (`qnn_target.quantize_qdq`, calibrated as `export` calibrates),
compiled for the default SoC and run one supervision step at a time in Qualcomm's HTP simulator on step inputs
taken along real y/z trajectories of held-out minimal puzzles; the same QDQ graph on ONNX Runtime's CPU is shown
beside it. Errors are against the fp32 graph: y's RMS error relative to y's RMS, and the share of cells whose
answer (logits argmax) flips. Rows: every weight 16-bit (what the 16-bit activations cost alone), every weight
int8 per tensor and per channel, and each weight int8 alone (the others 16-bit): what that layer adds.
A step's error says which layer to keep 16-bit; whether the answers survive is the `qnn-w8a16` study's question.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from trm_edge.bench.report import write_results
from trm_edge.datasets.splits import DataSpec, held_out
from trm_edge.export.api import DEFAULT_CALIBRATION, calibration_puzzles, export_checkpoint
from trm_edge.export.calibration import step_trajectories
from trm_edge.export.qnn_target import SOURCE_FILE, QdqPlan, compile_for, quantize_qdq, weight_axes
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.quiet import native_output_captured, silence_third_party
from trm_edge.targets.qnn import DEFAULT_SOC, session_options, soc

REPO = Path(__file__).resolve().parents[2]


def _session(path: Path, precision: str | None = None):
    """ONNX Runtime on the CPU (precision None) or the HTP simulator for the compiled model at `path`."""
    import onnxruntime as ort

    if precision is None:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    with native_output_captured():
        return ort.InferenceSession(str(path), session_options(soc(DEFAULT_SOC), precision))


def _outputs(sess, samples: list[dict]) -> list[list[np.ndarray]]:
    with native_output_captured():
        return [sess.run(None, s) for s in samples]


def _errors(reference: list, outputs: list) -> dict[str, float]:
    """y's RMS error over y's RMS, and the share of answer cells that flip, averaged over the step inputs."""
    rel = [np.sqrt(((o[0] - r[0]) ** 2).mean() / (r[0] ** 2).mean()) for r, o in zip(reference, outputs)]
    flips = [(o[2].argmax(-1) != r[2].argmax(-1)).mean() for r, o in zip(reference, outputs)]
    return {"y_rel_rms_error": float(np.mean(rel)), "answer_cells_flipped": float(np.mean(flips))}


def measure(plan: QdqPlan, source: Path, folder: Path, calibration: list[dict], probe: tuple[list, list]) -> dict:
    """One plan's QDQ graph (written into `folder`), on the CPU and in the HTP simulator, against fp32."""
    samples, reference = probe
    folder.mkdir()
    qdq = quantize_qdq(source, folder / "qdq.onnx", lambda: calibration, plan)
    compiled = compile_for(qdq, folder, soc(DEFAULT_SOC), plan.precision, False)
    return {"cpu": _errors(reference, _outputs(_session(qdq), samples)),
            "htp": _errors(reference, _outputs(_session(folder / compiled.model, plan.precision), samples)),
            "context_binary_bytes": compiled.binary_bytes}


def plans(precision: str, weights: list[str]) -> list[tuple[str, QdqPlan]]:
    rows = [("every weight 16-bit", QdqPlan(precision, tuple(weights))),
            ("every weight 8-bit, one scale per tensor", QdqPlan(precision, per_channel=False)),
            ("every weight 8-bit, one scale per channel (the export's)", QdqPlan(precision))]
    return rows + [(f"only {w} 8-bit", QdqPlan(precision, tuple(x for x in weights if x != w))) for w in weights]


def table(result: dict) -> str:
    lines = [f"{result['precision']} on {result['soc']}: one step on {result['step_inputs']} step inputs of held-out "
             f"minimal puzzles, against fp32", "",
             "| weights | HTP y error | HTP answer cells flipped | CPU (ONNX Runtime) y error | CPU flipped | "
             "context binary KB |", "|---|---|---|---|---|---|"]
    for row in result["rows"]:
        htp, cpu = row["htp"], row["cpu"]
        lines.append(f"| {row['variant']} | {100 * htp['y_rel_rms_error']:.2f}% | "
                     f"{100 * htp['answer_cells_flipped']:.2f}% | {100 * cpu['y_rel_rms_error']:.2f}% | "
                     f"{100 * cpu['answer_cells_flipped']:.2f}% | {row['context_binary_bytes'] / 1024:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=REPO / "models" / "sudoku9" / "checkpoint.pt")
    ap.add_argument("--precision", default="w8a16", choices=["w8a16", "w8a8"])
    ap.add_argument("--samples", type=int, default=32, help="step inputs the errors are averaged over")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "qnn-sensitivity")
    args = ap.parse_args()
    silence_third_party()
    ckpt = load_checkpoint(args.checkpoint)
    model, spec = ckpt.build_model(), DataSpec.from_saved(ckpt.info["data_spec"])
    calibration = step_trajectories(model, calibration_puzzles(ckpt), DEFAULT_CALIBRATION)
    test = held_out(spec, args.samples, "minimal")
    samples = step_trajectories(model, test, args.samples * 4)[::4]   # spread over the supervision steps
    with tempfile.TemporaryDirectory(prefix="trm-edge-qnn-sens-") as tmp:
        work = Path(tmp)
        artifact = export_checkpoint(args.checkpoint, "qnn", work / "fp16", quantize="fp16", parity_puzzles=0)
        source = artifact / SOURCE_FILE   # the fp32 graph the NPU compiles (folded weights, fused norms)
        import onnx

        weights = sorted(weight_axes(onnx.load(str(source))))
        reference = _outputs(_session(source), samples)
        rows = []
        for i, (label, plan) in enumerate(plans(args.precision, weights)):
            rows.append({"variant": label, "w16": list(plan.w16), "per_channel": plan.per_channel,
                         **measure(plan, source, work / f"variant{i}", calibration, (samples, reference))})
            print(f"{label:70s} HTP y error {100 * rows[-1]['htp']['y_rel_rms_error']:.2f}%", flush=True)
    result = {"command": "python scripts/bench/qnn_sensitivity.py", "checkpoint": str(args.checkpoint),
              "precision": args.precision, "soc": DEFAULT_SOC, "step_inputs": len(samples),
              "calibration_step_inputs": DEFAULT_CALIBRATION, "rows": rows}
    write_results(args.out, result, table(result))
    print(table(result))


if __name__ == "__main__":
    main()
