"""Render a bench result: terminal table (measured), a separate estimates table, JSON and a PNG plot."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..files import replace_file
from .columns import COLUMNS, described, per_puzzle_ms, values


def measured_table(result: dict[str, Any]) -> str:
    """One line per row; a column no row has a figure for (x official eval outside --throughput) is left out."""
    shown = [c for c in COLUMNS if any(c.value(r) is not None for r in result["rows"])] or list(COLUMNS)
    return _grid([c.head for c in shown], [[c.cell(r) for c in shown] for r in result["rows"]])


def estimate_table(result: dict[str, Any]) -> str:
    head = ["phone chip (ESTIMATE from peak figures, not measured)", "est. CPU step ms", "est. CPU puzzle ms", "bound"]
    lines = [[e["device"], f"{e['est_cpu_step_ms']:.3f}", f"{e['est_cpu_puzzle_ms_fixed']:.2f}", e["bound"]]
             for e in result.get("phone_estimates", [])]
    return _grid(head, lines) if lines else ""


def _grid(head: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))
    return "\n".join([fmt(head), fmt(["-" * w for w in widths]), *map(fmt, lines)])


def write_outputs(result: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "bench.json", "table": out_dir / "bench.txt", "plot": out_dir / "bench.png"}
    text = measured_table(result)
    est = estimate_table(result)
    sources = result.get("peak_set_by", {})
    peaks = ", ".join(f"{k} {v:.1f}" + (f" ({sources[k]})" if k in sources else "")
                      for k, v in result["measured_peak_gflops"].items())
    table = f"{text}\n\nmeasured matmul peaks (GFLOP/s): {peaks}\n" + (f"\n{est}\n" if est else "")
    result = {**result, "columns": described(), "rows": [{**r, "values": values(r)} for r in result["rows"]]}
    replace_file(paths["json"], lambda tmp: tmp.write_text(json.dumps(result, indent=2) + "\n"))
    replace_file(paths["table"], lambda tmp: tmp.write_text(table))
    replace_file(paths["plot"], lambda tmp: plot(result, tmp))
    return paths


def write_results(out_dir: Path, result: dict[str, Any], table: str) -> None:
    """What a measuring script (scripts/bench/) measured: every figure in results.json and the page generated from
    it in table.md, each replaced whole (a run that fails half way leaves the last complete pair)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    replace_file(out_dir / "results.json",
                 lambda tmp: tmp.write_text(json.dumps(result, indent=2, default=float) + "\n"))
    replace_file(out_dir / "table.md", lambda tmp: tmp.write_text(table))


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for r in result["rows"]:
        if r["status"] != "ok" or r["derived"].get("simulated"):
            continue
        latency = per_puzzle_ms(r)
        if latency is None:
            continue
        marker = {"pytorch": "o", "pytorch+compile": "D", "onnx": "s", "executorch": "^", "tflite": "v",
                  "coreml": "P"}.get(r["runtime"], "x")
        label = f"{r['runtime']} {r['precision']} {r['recursion']} t={r['threads']} b={r['batch']} {r['halting']}"
        ax.scatter(latency, 100 * r["measured"]["exact_accuracy"], marker=marker, s=50, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("time per puzzle, ms (p50 of a batch / batch size, or wall time / puzzles in throughput mode; log)")
    ax.set_ylabel("exact-puzzle accuracy, %")
    ax.set_title("trm-edge bench: latency vs accuracy (measured on this host)")
    ax.grid(True, which="both", alpha=0.3)
    if ax.collections:   # a run whose rows all failed or were skipped has nothing to name
        ax.legend(fontsize=6, loc="lower left", ncol=1)
    else:
        ax.text(0.5, 0.5, "no measured rows", transform=ax.transAxes, ha="center")
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)


def arm_table(result: dict[str, Any]) -> str:
    """Two rows per artifact (its x86 and ARM64 runs, each against PyTorch on x86) and the ARM64-vs-x86 gap."""
    head = ["artifact", "ISA", "max |logit diff|", "cells = PyTorch", "exact (art / PyTorch)", "paired diff [95% CI]",
            "ACT halts = PyTorch", "ARM64 vs x86: max |diff|, cells, puzzles, halts", "verdict"]
    lines = []
    for c in result["checks"]:
        if c["status"] in ("skipped", "error"):
            lines.append([c["variant"], "arm64", "-", "-", "-", "-", "-", "-", f"{c['status']}: {c['reason'][:60]}"])
            continue
        for isa in ("x86", "arm64"):
            v = c[isa]
            lo, hi = v["paired_difference_95ci"]
            d = c["arm64_vs_x86"]
            lines.append([
                c["variant"] if isa == "x86" else "", isa, f"{v['max_abs_logit_diff']:.2e}",
                f"{100 * v['cell_agreement']:.2f}%",
                f"{v['exact_accuracy_artifact']:.3f} / {v['exact_accuracy_pytorch']:.3f}",
                f"{100 * v['paired_difference']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]",
                f"{100 * v['halting_agreement']:.1f}%",
                "" if isa == "x86" else (f"{d['max_abs_logit_diff']:.2e}, {100 * d['cell_agreement']:.2f}%, "
                                         f"{100 * d['puzzle_agreement']:.1f}%, {100 * d['halting_agreement']:.1f}%"),
                "ok" if v["within_budget"] else "FAIL"])
    return _grid(head, lines)
