"""The bench's columns, declared once: what each one is called, its unit, how a row's value is read from the
worker's measurements and the derived figures, and how it prints. The terminal table, bench.json's `columns`
and `values`, and the plot all read this list."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..targets import Precision

Row = dict[str, Any]   # one bench row as bench.json stores it (BenchRow.to_dict)


@dataclass(frozen=True)
class Column:
    key: str                           # the name in bench.json's `values`
    head: str                          # the table heading
    unit: str                          # "" for labels
    value: Callable[[Row], Any]        # None when the row has no such figure
    fmt: str = "{}"
    terminal: bool = True              # in the terminal table (100 columns); bench.txt and bench.json have all
    label: bool = False                # says what ran (not a measurement): said once when every row shares it

    def cell(self, row: Row) -> str:
        return self.format(self.value(row))

    def format(self, v: Any) -> str:
        """A value of this column as every table prints it ("-" where the row has none)."""
        return "-" if v is None else (self.fmt.format(*v) if isinstance(v, (tuple, list)) else self.fmt.format(v))


def _ok(get: Callable[[Row], Any]) -> Callable[[Row], Any]:
    """A measured figure, shown only for rows that ran."""
    return lambda r: get(r) if r["status"] == "ok" else None


def _pair(name: str) -> Callable[[Row], Any]:
    return _ok(lambda r: (r["measured"][name]["p50_ms"], r["measured"][name]["p90_ms"])
               if name in r["measured"] else None)


def _status(r: Row) -> str:
    """ok, simulated (answers without timings), or what went wrong (the reason follows the table)."""
    if r["status"] == "ok":
        return "simulated" if r["derived"].get("simulated") else "ok"
    return r["status"]


def per_puzzle_ms(r: Row) -> float | None:
    """Time per puzzle: the p50 of a batch divided by the batch size (throughput rows: wall time / puzzles)."""
    if r["status"] != "ok":
        return None
    puzzle, rate = r["measured"].get("puzzle"), r["measured"].get("puzzles_per_s")
    if puzzle is None:
        return None if not rate else 1000 / rate
    return puzzle["p50_ms"] / max(1, r["batch"])


def row_label(r: Row) -> str:
    """What the row ran: its artifact folder's name, or the PyTorch reference."""
    return r["runtime"] if r["runtime"].startswith("pytorch") else Path(r["source"]).name


def precision_label(r: Row) -> str:
    """fp32 for the metadata's `none`; PyTorch's own dtypes (bf16) as they are."""
    return Precision.label_of(r["precision"])


def _fraction(r: Row) -> float | None:
    f = r["derived"].get("fraction_of_peak")
    return None if f is None else 100 * f


COLUMNS: tuple[Column, ...] = (
    Column("row", "row", "", row_label),
    Column("runtime", "runtime", "", lambda r: r["runtime"], terminal=False),
    Column("precision", "prec", "", precision_label, label=True),
    Column("recursion", "mode", "", lambda r: r["recursion"], terminal=False),
    Column("threads", "thr", "", lambda r: r["threads"], label=True),
    Column("batch", "batch", "", lambda r: r["batch"], label=True),
    Column("halting", "halt", "", lambda r: "official" if r["derived"].get("yardstick") else r["halting"],
           label=True),
    Column("status", "status", "", _status, label=True),
    Column("load_s", "load s", "s", _ok(lambda r: r["measured"].get("load_s")), "{:.2f}", terminal=False),
    Column("step_ms", "step ms", "ms", _ok(lambda r: r["measured"]["step"]["p50_ms"] if "step" in r["measured"]
                                           and not r["measured"].get("throughput") else None), "{:.2f}"),
    Column("step_p50_p90_ms", "step p50/p90 ms", "ms", _pair("step"), "{:.2f}/{:.2f}", terminal=False),
    Column("solve_ms", "solve p50/p90 ms", "ms", _pair("puzzle"), "{:.1f}/{:.1f}", terminal=False),
    Column("puzzles_per_s", "puzzles/s", "1/s", _ok(lambda r: r["measured"].get("puzzles_per_s")), "{:.1f}"),
    Column("exact_accuracy", "exact", "", _ok(lambda r: r["measured"].get("exact_accuracy")), "{:.3f}"),
    Column("mean_steps", "steps", "", _ok(lambda r: r["measured"].get("mean_steps")), "{:.1f}"),
    Column("memory_mb", "+MB", "MB", _ok(lambda r: r["measured"].get("peak_cuda_mb",
                                                                     r["measured"].get("rss_over_baseline_mb"))),
           "{:.1f}"),
    Column("size_kb", "size KB", "KB", lambda r: r.get("size_kb"), "{:.0f}", terminal=False),
    Column("gflops", "GFLOP/s", "GFLOP/s", lambda r: r["derived"].get("achieved_gflops"), "{:.2f}", terminal=False),
    Column("percent_of_peak", "% peak", "%", _fraction, "{:.1f}%"),
    Column("x_official_eval", "x eval", "x", lambda r: r["derived"].get("x_official_eval"), "{:.1f}"),
    Column("limit_x_official_eval", "limit x", "x", lambda r: r["derived"].get("limit_x_official_eval"), "{:.1f}"),
)


COLUMN = {c.key: c for c in COLUMNS}


def values(row: Row) -> dict[str, Any]:
    """The row's figures under the columns' keys (bench.json)."""
    return {c.key: c.value(row) for c in COLUMNS}


def described() -> list[dict[str, str]]:
    return [{"key": c.key, "head": c.head, "unit": c.unit} for c in COLUMNS]
