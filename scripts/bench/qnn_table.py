"""The phone-NPU table: the TRM step compiled for every Snapdragon SoC of `trm_edge.targets.qnn.SOCS` in fp16,
w16a16, w8a16 and w8a8, and the 9x9 model's answers in Qualcomm's HTP simulator next to PyTorch's (and, as a
yardstick, the ONNX step in fp32 and fp16 on this CPU).

    python scripts/bench/qnn_table.py [--puzzles 50] [--out results/qnn] [--halting act valid-2]
    python scripts/bench/qnn_table.py --models sudoku9 --precisions w8a16 --puzzles 100 --append   # one row again

Writes OUT/results.json (every figure, with the tool versions) and OUT/table.md, generated from it.
Compilation figures are real (size and placement are what a phone loads); simulator seconds say nothing about
a phone and are reported only so that a run can be planned.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path


from trm_edge.bench.report import write_results
from trm_edge.data import exact_accuracy
from trm_edge.datasets.splits import DataSpec, held_out
from trm_edge.export import export_checkpoint
from trm_edge.export.parity import paired_difference
from trm_edge.export.qnn_target import SOURCE_FILE, PartialOffload, compile_for
from trm_edge.host_loop import Halting
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.runtime.artifacts import load_runner
from trm_edge.quiet import silence_third_party
from trm_edge.runtime.reference import solve_with_model
from trm_edge.runtime.tries import bind_halting
from trm_edge.tasks import get_task
from trm_edge.targets.qnn import DEFAULT_SOC, SOCS
from trm_edge.train.untrained import untrained_checkpoint

REPO = Path(__file__).resolve().parents[2]
PRECISIONS = ("fp16", "w16a16", "w8a16", "w8a8")
CPU_REFERENCES = ("none", "fp16")   # the same graph on the CPU (ONNX Runtime): what fp16 alone does to the answers
PAPER = ("sudoku-mlp", "sudoku-att")
HALTINGS = ("act", "valid-2")   # as an app runs (the model's own stop), and stopping at an answer the rules accept


def placement(artifact: Path, precision: str, work: Path) -> list[dict]:
    """Every SoC compiled from the artifact's source graph: where the nodes went, binary size, time."""
    rows = []
    for chip in SOCS:
        folder = work / chip.name
        folder.mkdir()
        row = {"soc": chip.name, "chip": chip.chip, "htp_arch": chip.htp_arch, "soc_model": chip.soc_model}
        try:
            c = compile_for(artifact / SOURCE_FILE, folder, chip, precision, fallback=False)
            row.update(compiled=True, **{k: v for k, v in c.to_dict().items() if k not in ("model", "binary")})
        except PartialOffload as exc:
            row.update(compiled=False, graph_nodes=exc.nodes, nodes_on_cpu=exc.on_cpu,
                       nodes_on_htp=exc.nodes - sum(exc.on_cpu.values()))
        except RuntimeError as exc:
            row.update(compiled=False, error=str(exc)[:300])
        rows.append(row)
    return rows


def accuracies(artifact: Path, ckpt_path: Path, puzzles: int, haltings: list[str]) -> list[dict]:
    """The artifact (HTP simulator) and PyTorch on the same minimal 9x9 puzzles, both under each halting rule in
    turn (the puzzles, the model and the artifact's runtime are loaded once)."""
    ckpt = load_checkpoint(ckpt_path)
    data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), puzzles, "minimal")
    runner, model = load_runner(artifact), ckpt.build_model()
    return [_accuracy(runner, model, data, h) for h in haltings]


def _accuracy(runner, model, data, halting: str) -> dict:
    """One halting rule's comparison: same answers, exact accuracy of each, the paired difference, steps."""
    rule = bind_halting(Halting.parse(halting), get_task(data.meta.task), data.meta.grid_shape[0])   # valid: rules
    t0 = time.perf_counter()
    art = runner.solve(data.inputs, data.puzzle_identifiers, halting=rule)
    seconds = time.perf_counter() - t0
    ref = solve_with_model(model, data.inputs, data.puzzle_identifiers, halting=rule)
    art_ok, ref_ok = (exact_accuracy(r.predictions, data.labels) for r in (art, ref))
    same = (art.predictions == ref.predictions).all(-1)
    diff, lo, hi = paired_difference(art_ok, ref_ok)
    return {"puzzles": len(data), "band": "minimal", "halting": halting,
            "same_answer_as_pytorch": float(same.mean()),
            "same_answer_where_pytorch_solves": float(same[ref_ok].mean()) if ref_ok.any() else None,
            "exact_accuracy": float(art_ok.mean()), "exact_accuracy_pytorch": float(ref_ok.mean()),
            "paired_difference": diff, "paired_difference_95ci": [lo, hi],
            "mean_steps": float(art.steps.mean()), "mean_steps_pytorch": float(ref.steps.mean()),
            "simulator_seconds_per_step": seconds / max(1, int(art.steps.sum()))}


def model_rows(name: str, ckpt: Path, work: Path, args: argparse.Namespace, log) -> list[dict]:
    """The model's rows: each asked precision compiled for every SoC, and (9x9) its answers under each halting rule
    in the simulator; with every precision asked, the CPU references too."""
    out, puzzles = [], args.puzzles
    for precision in args.precisions:
        artifact = work / f"{name}-{precision}"
        t0 = time.perf_counter()
        try:
            export_checkpoint(ckpt, "qnn", artifact, quantize=precision, parity_puzzles=0,
                              options={"soc": DEFAULT_SOC, "allow-cpu-fallback": True})
        except RuntimeError as exc:   # a precision the tools cannot make for this model is a row, not the end
            log(f"{name} {precision}: {exc}")
            out.append({"model": name, "precision": precision, "error": str(exc), "socs": []})
            continue
        socs_dir = work / f"{name}-{precision}-socs"
        socs_dir.mkdir()
        entry = {"model": name, "precision": precision, "export_seconds": time.perf_counter() - t0,
                 "socs": placement(artifact, precision, socs_dir)}
        if puzzles and name == "sudoku9":
            log(f"{name} {precision}: {puzzles} minimal puzzles in the HTP simulator (~1 s a step), "
                f"{' and '.join(args.halting)} halting ...")
            entry["accuracy"] = accuracies(artifact, ckpt, puzzles, args.halting)
        log(f"{name} {precision}: " + ", ".join(f"{s['soc']} {'ok' if s.get('compiled') else 'no'}"
                                                 for s in entry["socs"]))
        out.append(entry)
    if puzzles and name == "sudoku9" and tuple(args.precisions) == PRECISIONS:
        for precision in CPU_REFERENCES:
            artifact = export_checkpoint(ckpt, "onnx", work / f"{name}-cpu-{precision}", quantize=precision,
                                         parity_puzzles=0)
            out.append({"model": name, "precision": precision, "runtime": "onnxruntime-cpu", "socs": [],
                        "accuracy": accuracies(artifact, ckpt, puzzles, args.halting)})
    return out


def _placement_row(entry: dict, s: dict) -> str:
    where = f"{s['nodes_on_htp']}/{s['graph_nodes']}" if "graph_nodes" in s else "-"
    if s.get("compiled"):
        done, size, secs = "yes", f"{s['binary_bytes'] / 1024:.0f}", f"{s['compile_seconds']:.2f}"
    else:
        cpu = list((s.get("nodes_on_cpu") or {}).items())
        shown = ", ".join(f"{n} {op}" for op, n in cpu[:4]) + (", ..." if len(cpu) > 4 else "")
        done, size, secs = f"no ({shown} need the CPU)" if cpu else f"no ({s.get('error', '?')[:80]})", "-", "-"
    return (f"| {entry['model']} | {entry['precision']} | {s['soc']} ({s['chip']}) | v{s['htp_arch']} | {done} | "
            f"{where} | {size} | {secs} |")


def table(result: dict) -> str:
    """Markdown generated from results.json."""
    lines = ["| model | precision | SoC | HTP | compiled | nodes on NPU | context binary KB | compile s |",
             "|---|---|---|---|---|---|---|---|"]
    for e in result["models"]:
        lines += [_placement_row(e, s) for s in e["socs"]]
        if e.get("error"):
            lines.append(f"| {e['model']} | {e['precision']} | all | - | not exported: {e['error'][:160]} | - | - | - |")
    lines += ["", "Answers: the artifact and PyTorch fp32 under the same halting rule (act: the model's own stop, as an "
                  "app runs; valid-2: stop at the first answer the rules accept, or once it is unchanged for 2 steps).",
              "", "| 9x9 model, minimal puzzles | halting | runs on | same answer as PyTorch | same where PyTorch solves | "
                  "exact (this / PyTorch) | paired diff [95% CI] | mean steps | simulator s/step (not phone time) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for e in result["models"]:
        for a in _accuracies(e):
            lo, hi = a["paired_difference_95ci"]
            solved = a["same_answer_where_pytorch_solves"]
            where = "CPU (ONNX Runtime)" if e.get("runtime") == "onnxruntime-cpu" else "HTP simulator"
            precision = "fp32" if e["precision"] == "none" else e["precision"]
            pace = f"{a['simulator_seconds_per_step']:.2f}" if where == "HTP simulator" else "-"
            lines.append(f"| {precision} ({a['puzzles']} puzzles) | {a['halting']} | {where} | "
                         f"{100 * a['same_answer_as_pytorch']:.0f}% | "
                         f"{'-' if solved is None else f'{100 * solved:.0f}%'} | {a['exact_accuracy']:.3f} / "
                         f"{a['exact_accuracy_pytorch']:.3f} | {100 * a['paired_difference']:+.1f} "
                         f"[{100 * lo:+.1f}, {100 * hi:+.1f}] | {a['mean_steps']:.1f} | "
                         f"{pace} |")
    return "\n".join(lines) + "\n"


def _accuracies(entry: dict) -> list[dict]:
    """An entry's answer rows, one per halting rule (rows written before the rules were a list hold one dict)."""
    found = entry.get("accuracy") or []
    return [found] if isinstance(found, dict) else found


def _row_key(entry: dict) -> tuple[str, str, str]:
    return entry["model"], entry["precision"], entry.get("runtime", "htp")


def _merged(earlier: list[dict], new: list[dict]) -> list[dict]:
    """The earlier rows with each one measured again replaced where it stood, then the rows that are new."""
    fresh = {_row_key(e): e for e in new}
    kept = [fresh.pop(_row_key(e), e) for e in earlier]
    return kept + list(fresh.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--puzzles", type=int, default=50, help="minimal 9x9 puzzles per precision (0: compile only)")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "qnn")
    ap.add_argument("--models", default="sudoku9," + ",".join(PAPER))
    ap.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=list(PRECISIONS),
                    help="the NPU precisions to run (the CPU references run only with all of them)")
    ap.add_argument("--halting", nargs="+", choices=HALTINGS, default=list(HALTINGS),
                    help="the halting rules the 9x9 answers are compared under")
    ap.add_argument("--append", action="store_true",
                    help="replace only these models' and precisions' rows in OUT/results.json, keep the others")
    args = ap.parse_args()
    args.precisions = [p for p in PRECISIONS if p in args.precisions]
    silence_third_party()
    log = lambda m: print(m, flush=True)   # noqa: E731
    import onnxruntime_qnn

    result = {"command": " ".join(["python", "scripts/bench/qnn_table.py", *sys.argv[1:]]),
              "host": {"machine": platform.machine(), "processor": platform.processor()},
              "versions": {"onnxruntime": version("onnxruntime"), "onnxruntime-qnn": version("onnxruntime-qnn"),
                           "qnn-sdk": onnxruntime_qnn.build_and_package_info.qnn_version},
              "models": []}
    args.out.mkdir(parents=True, exist_ok=True)
    earlier = []
    if args.append:
        before = json.loads((args.out / "results.json").read_text())
        earlier, result["command"] = before["models"], before["command"] + " ; " + result["command"]
    new: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="trm-edge-qnn-") as tmp:
        work = Path(tmp)
        for name in args.models.split(","):
            ckpt = (REPO / "models" / "sudoku9" / "checkpoint.pt" if name == "sudoku9"
                    else untrained_checkpoint(name, work / f"{name}.pt"))
            new += model_rows(name, ckpt, work, args, log)
            result["models"] = _merged(earlier, new)
            write(result, args.out)   # after each model: a late failure keeps what was measured
    print(table(result))


def write(result: dict, out: Path) -> None:
    write_results(out, result, table(result))


if __name__ == "__main__":
    main()
