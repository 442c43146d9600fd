"""Render a bench result: terminal table (measured), a separate estimates table, JSON and a PNG plot."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..files import replace_file
from .columns import COLUMNS, described, per_puzzle_ms, precision_label, row_label, values


def measured_table(result: dict[str, Any], terminal: bool = True) -> str:
    """One line per row; a column no row has a figure for (x official eval outside --throughput) is left out. The
    terminal table keeps to ~100 columns: its own columns only, and a label every row shares (threads, halting,
    status ok) said once above it instead of on every line."""
    rows = result["rows"]
    shown = [c for c in COLUMNS if (c.terminal or not terminal) and any(c.value(r) is not None for r in rows)]
    shared = []
    if terminal and len(rows) > 1:
        same = [c for c in shown if c.label and len({c.cell(r) for r in rows}) == 1]
        shared = [f"{c.head} {c.cell(rows[0])}" for c in same]
        shown = [c for c in shown if c not in same]
    table = _grid([c.head for c in shown], [[c.cell(r) for c in shown] for r in rows])
    notes = [f"{row_label(r)} ({r['precision']}, {r['halting']}): {r['status']}: {r.get('error') or ''}".rstrip(": ")
             for r in rows if r["status"] != "ok"]
    if any(c.key == "x_official_eval" for c in shown):
        notes.append("x eval: puzzles/s over the official evaluation's (PyTorch fp32, all N_sup steps, same run)")
    if any(c.key == "limit_x_official_eval" for c in shown):
        notes.append("limit x: x eval at the GEMM peak of the row's precision (peak / FLOPs per puzzle)")
    return (f"every row: {', '.join(shared)}\n" if shared else "") + table + "".join(f"\n{n}" for n in notes)


def estimate_table(result: dict[str, Any]) -> str:
    head = ["phone chip (ESTIMATE from peak figures, not measured)", "est. CPU step ms", "est. CPU puzzle ms", "bound"]
    lines = [[e["device"], f"{e['est_cpu_step_ms']:.3f}", f"{e['est_cpu_puzzle_ms_fixed']:.2f}", e["bound"]]
             for e in result.get("phone_estimates", [])]
    return _grid(head, lines) if lines else ""


def _grid(head: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([fmt(head), fmt(["-" * w for w in widths]), *map(fmt, lines)])


def write_outputs(result: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "bench.json", "table": out_dir / "bench.txt", "plot": out_dir / "bench.png"}
    text = measured_table(result, terminal=False)
    est = estimate_table(result)
    sources = result.get("peak_set_by", {})
    peaks = ", ".join(f"{k} {v:.1f}" + (f" ({sources[k]})" if k in sources else "")
                      for k, v in result["measured_peak_gflops"].items())
    table = (f"{text}\n\nmeasured GEMM peaks per precision (G(FL)OP/s; int8 in integer operations): {peaks}\n"
             + (f"\n{est}\n" if est else ""))
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
    """One labelled bar per measured row: puzzles per second (longer is faster), with the row's exact accuracy
    and memory written at its end; the label says what ran (artifact, precision, threads, batch, halting)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [(r, r["measured"].get("puzzles_per_s") or 1000 / per_puzzle_ms(r)) for r in result["rows"]
            if r["status"] == "ok" and not r["derived"].get("simulated") and per_puzzle_ms(r)]
    bars.sort(key=lambda b: b[1])
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.42 * max(1, len(bars))))
    for y, (r, rate) in enumerate(bars):
        ax.barh(y, rate, color="#1f6feb" if not r["runtime"].startswith("pytorch") else "#8b949e")
        memory = r["measured"].get("peak_cuda_mb", r["measured"].get("rss_over_baseline_mb"))
        note = f" exact {r['measured']['exact_accuracy']:.3f}" + (f", +{memory:.0f} MB" if memory is not None else "")
        ax.text(rate, y, note, va="center", fontsize=7)
    ax.set_yticks(range(len(bars)), [f"{row_label(r)} {precision_label(r)} t={r['threads']} b={r['batch']} "
                                     f"{r['halting']}" for r, _ in bars], fontsize=7)
    ax.set_xlabel("puzzles per second (the table's puzzles/s)")
    ax.set_title("trm-edge bench, measured on this host (grey: the PyTorch reference)", fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    if bars:
        ax.set_xlim(0, 1.35 * max(rate for _, rate in bars))   # room for the notes at the bars' ends
    else:   # a run whose rows all failed or were skipped has nothing to draw
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
