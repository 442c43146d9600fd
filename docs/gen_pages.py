"""Pages generated when the site builds (mkdocs-gen-files): the command reference from the CLI itself, the
target reference from the target registry, and each results page from the files its measuring script wrote.
Nothing here is typed by hand twice: change an option's help or a target's precisions and the page follows."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import mkdocs_gen_files
import typer

from trm_edge import targets
from trm_edge.cli import app
from trm_edge.tasks import get_task, task_names

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------- commands
def _cell(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def command_page(name: str, command) -> str:
    """One command: its help text, then each argument and option as `--help` describes it (typer's own records)."""
    ctx = typer.Context(command)
    lines = [f"# trm-edge {name}", "", (command.help or "").replace("\b\n", "\n"), "",
             "| argument / option | what it does |", "|---|---|"]
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        record = param.get_help_record(ctx)
        if record is None:   # an argument: typer keeps its help on the parameter
            record = (f"{param.name.upper()}", getattr(param, "help", "") or "")
        lines.append(f"| `{record[0]}` | {_cell(record[1])} |")
    return "\n".join(lines) + "\n"


def write_commands() -> list[str]:
    group = typer.main.get_command(app)
    names = sorted(group.commands)
    for name in names:
        with mkdocs_gen_files.open(f"reference/commands/{name}.md", "w") as fh:
            fh.write(command_page(name, group.commands[name]))
    return names


# ---------------------------------------------------------------------------------------------- targets and tasks
def targets_page() -> str:
    lines = ["# Targets", "", "Generated from the target registry (`trm_edge/targets/`, one module per target).", "",
             "| target | model file | recursion modes | precisions (`--quantize`) | own options | runs on this host |",
             "|---|---|---|---|---|---|"]
    for t in targets.all_targets().values():
        options = "<br>".join(f"`--{o.name}`" + (f" ({'/'.join(o.choices)})" if o.choices else "") for o in t.options)
        host = "simulated" if t.simulated else ("weights read back into PyTorch" if t.weights_readback else "yes")
        lines.append(f"| [`{t.name}`](targets/{t.name}.md) | `{t.model_file}` | {', '.join(t.modes)} | {', '.join(t.precisions)} | "
                     f"{options} | {host} |")
    lines += [""] + [f"- **{t.name}**: {_cell(t.note)}" for t in targets.all_targets().values()]
    return "\n".join(lines) + "\n"


def target_page(t: targets.Target) -> str:
    """One target: what it offers and its own options, as the registry declares them."""
    lines = [f"# Target `{t.name}`", "", _cell(t.note), "", f"```\ntrm-edge export CHECKPOINT --target {t.name}\n```", "",
             "| | |", "|---|---|", f"| model file | `{t.model_file}` |",
             f"| recursion modes (`--recursion`) | {', '.join(t.modes)} |",
             f"| precisions (`--quantize`) | {', '.join(t.precisions)} (default `{t.default_precision}`) |",
             f"| default parity puzzles | {t.parity_puzzles} |",
             f"| on this host | {'simulated: answers, no timings' if t.simulated else 'runs' if not t.weights_readback else 'weights read back into PyTorch (needs macOS to run)'} |",
             ""]
    if t.options:
        lines += ["| own option | values | default | what it does |", "|---|---|---|---|"]
        lines += [f"| `--{o.name}` | {' / '.join(o.choices) if o.choices else 'flag' if isinstance(o.default, bool) else 'any'}"
                  f" | `{o.default}` | {_cell(o.help)} |" for o in t.options]
    return "\n".join(lines) + "\n"


def tasks_page() -> str:
    lines = ["# Tasks", "", "Generated from the task registry (`trm_edge/tasks/`, one module per task).", "",
             "| task | built-in generator | difficulty bands | `solve` | `--tries` answer | token codec (in `metadata.json`) |",
             "|---|---|---|---|---|---|"]
    for name in task_names():
        t = get_task(name)
        codec = ", ".join(f"{k}: {v}" for k, v in t.codec().items())
        lines.append(f"| `{name}` | {'yes' if t.generated else 'no'} | {'yes' if t.has_bands else 'no'} | "
                     f"{'yes' if t.solvable else 'no'} | {'accepted by its rules check' if t.verifies else 'a vote'} "
                     f"| {_cell(codec)} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class ResultsPage:
    """A results page: the folder a script wrote, the command that wrote it, and what to show from it."""

    slug: str
    title: str
    folder: str
    command: str
    show: tuple[str, ...]          # files in `folder`: .md inlined, .txt as a block, .png as an image
    data: tuple[str, ...]          # the JSON the shown files were generated from
    chart: "Chart | None" = None   # drawn from data[0]'s rows when the site builds


@dataclass(frozen=True)
class Chart:
    """A chart of a results file's rows: bars (one per row, named by `label` fields) or, with `x`, one line per
    `series` value; `panel` splits the rows into side-by-side plots (e.g. one per puzzle band)."""

    value: str
    label: tuple[str, ...] = ()
    x: str | None = None
    series: tuple[str, ...] = ()
    panel: str | None = None

    def draw(self, rows: list[dict], title: str) -> bytes:
        import io

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = [r for r in rows if isinstance(r.get(self.value), (int, float))]
        panels = sorted({str(r[self.panel]) for r in rows}) if self.panel else [None]
        tall = 0.28 * len(rows) / len(panels) + 1.2 if self.x is None else 3.6
        fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels) + 2.4, tall), squeeze=False,
                                 sharey=self.x is not None)
        for ax, name in zip(axes[0], panels):
            part = [r for r in rows if name is None or str(r[self.panel]) == name]
            self._bars(ax, part) if self.x is None else self._lines(ax, part)
            ax.set_title(name or "", fontsize=9)
            ax.grid(alpha=0.3)
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        return buf.getvalue()

    def _bars(self, ax, rows: list[dict]) -> None:
        names = [" ".join(str(r.get(k)) for k in self.label) for r in rows]
        ax.barh(range(len(rows)), [r[self.value] for r in rows], color="#4c72b0")
        ax.set_yticks(range(len(rows)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(self.value.replace("_", " "), fontsize=9)

    def _lines(self, ax, rows: list[dict]) -> None:
        groups: dict[str, list[dict]] = {}
        for r in rows:
            groups.setdefault(" ".join(str(r.get(k)) for k in self.series), []).append(r)
        for name, part in groups.items():
            part = sorted(part, key=lambda r: r[self.x])
            ax.plot([r[self.x] for r in part], [r[self.value] for r in part], marker="o", ms=3, label=name)
        ax.set_xlabel(self.x.replace("_", " "), fontsize=9)
        ax.set_ylabel(self.value.replace("_", " "), fontsize=9)
        ax.legend(fontsize=7)


RESULTS = (
    ResultsPage("default", "Default preset (4x4): training", "results/default",
                "bash scripts/bench/train_default.sh", ("train_default.log",),
                ("train_default_log.jsonl", "generator.json")),
    ResultsPage("default-exports", "The default preset (4x4): every export and its parity",
                "results/default-exports", "trm-edge study default-exports", ("table.md",), ("results.json",)),
    ResultsPage("default-bench", "The default preset (4x4): every runtime's speed beside PyTorch",
                "results/default-bench", "trm-edge study default-bench", ("table.md",), ("results.json",),
                Chart("puzzles_per_s", label=("runtime", "precision", "batch", "threads", "halting"))),
    ResultsPage("sudoku9-exports", "The committed 9x9 model: every export per band", "results/sudoku9-exports",
                "trm-edge study sudoku9-exports", ("table.md",), ("results.json",)),
    ResultsPage("sudoku9-halting", "The committed 9x9 model: halting rules per band", "results/sudoku9-halting",
                "trm-edge study sudoku9-halting", ("table.md",), ("results.json",)),
    ResultsPage("sudoku9-bench", "The committed 9x9 model: latency, memory and speed of each runtime",
                "results/sudoku9-bench", "trm-edge study sudoku9-bench", ("table.md",), ("results.json",),
                Chart("step_ms", label=("runtime", "precision", "batch", "threads", "halting"))),
    ResultsPage("fp32-parity", "fp32 exports of the committed models: parity at 10 and 200 puzzles",
                "results/fp32-parity", "trm-edge study fp32-parity", ("table.md",), ("results.json",)),
    ResultsPage("valid-halting", "Valid-answer halting against stable-2 (9x9 models)", "results/valid-halting",
                "trm-edge study valid-halting", ("table.md",), ("results.json",),
                Chart("mean_steps", label=("model", "band", "halting", "max_steps"))),
    ResultsPage("valid-halting-maze", "Valid-answer halting against stable-2 (maze7)", "results/valid-halting-maze",
                "trm-edge study valid-halting-maze", ("table.md",), ("results.json",),
                Chart("mean_steps", label=("halting", "max_steps"))),
    ResultsPage("max-steps", "Test-time steps (--max-steps) per band", "results/sudoku9/max_steps",
                "python scripts/bench/max_steps_curves.py", ("table.md",), ("results.json",),
                Chart("exact_accuracy", x="max_steps", series=("halting",), panel="band")),
    ResultsPage("max-steps-hard", "Test-time steps per band: the sudoku9-hard model", "results/sudoku9-hard/max_steps",
                "python scripts/bench/max_steps_curves.py --checkpoint models/sudoku9-hard/checkpoint.pt --puzzles 300 "
                "--out results/sudoku9-hard/max_steps", ("table.md",), ("results.json",),
                Chart("exact_accuracy", x="max_steps", series=("halting",), panel="band")),
    ResultsPage("depth", "Inference-time depth: T and n other than trained", "results/depth",
                "trm-edge study depth", ("table.md",), ("results.json",), Chart("exact_accuracy", label=("depth",))),
    ResultsPage("public-lists", "Public hard 9x9 lists with verified tries (Norvig's top95 and hardest)",
                "results/public-lists", "taskset -c 0 trm-edge study public-lists", ("table.md",), ("results.json",),
                Chart("accuracy", x="tries", series=("runtime", "max_steps"), panel="source")),
    ResultsPage("tries", "Tries: verified test-time compute on hard puzzles", "results/tries",
                "taskset -c 0 trm-edge study tries", ("table.md",), ("results.json",),
                Chart("accuracy", x="tries", series=("runtime", "max_steps"), panel="source")),
    ResultsPage("tries-sudoku9", "Tries: the sudoku9 model", "results/tries-sudoku9",
                "taskset -c 0 trm-edge study tries-sudoku9", ("table.md",), ("results.json",),
                Chart("accuracy", x="tries", series=("max_steps",), panel="source")),
    ResultsPage("tries-maze7", "Tries: the maze7 model", "results/tries-maze7",
                "taskset -c 0 trm-edge study tries-maze7", ("table.md",), ("results.json",),
                Chart("accuracy", x="tries", series=("max_steps",))),
    ResultsPage("throughput", "Puzzles per second against the official evaluation", "results/throughput",
                "taskset -c 0 trm-edge study throughput", ("table.md",), ("results.json",),
                Chart("puzzles_per_s", label=("runtime", "precision", "batch", "halting"))),
    ResultsPage("xnnpack-profile", "Where ExecuTorch's XNNPACK programs spend a call, against their GEMM peaks",
                "results/xnnpack-profile", "taskset -c 0 python scripts/bench/xnnpack_profile.py", ("table.md",),
                ("results.json",)),
    ResultsPage("int4", "int4 against int8 per target: size and minimal-puzzle answers", "results/int4",
                "taskset -c 0 trm-edge study int4", ("table.md",), ("results.json",),
                Chart("exact_accuracy_artifact", label=("target", "recursion", "precision"))),
    ResultsPage("int4-paper", "int4 against int8 at paper size: file size", "results/int4-paper",
                "trm-edge study int4-paper", ("table.md",), ("results.json",),
                Chart("size_bytes", label=("model", "target", "recursion", "precision"))),
    ResultsPage("qnn", "Hexagon NPU (QNN): compilation and simulated answers", "results/qnn",
                "python scripts/bench/qnn_table.py", ("table.md",), ("results.json",)),
    ResultsPage("int8-sensitivity", "ONNX dynamic int8: which weight costs the answers", "results/int8-sensitivity",
                "python scripts/bench/int8_sensitivity.py --artifact ARTIFACT_FP32_ONNX", ("table.md",),
                ("results.json",)),
    ResultsPage("qnn-sensitivity", "Hexagon NPU: each weight's share of the w8a16 step error",
                "results/qnn-sensitivity", "python scripts/bench/qnn_sensitivity.py", ("table.md",), ("results.json",)),
    ResultsPage("qnn-w8a16", "Hexagon NPU: w8a16 answers in the HTP simulator", "results/qnn-w8a16",
                "trm-edge study qnn-w8a16", ("table.md",), ("results.json",)),
    ResultsPage("web", "In the browser: ONNX Runtime Web next to native", "results/web",
                "python scripts/bench/web_bench.py ARTIFACT", ("table.md",), ("results.json",),
                Chart("step_ms_median", label=("runtime", "threads"))),
    ResultsPage("web-app", "The web app: load times offline and Lighthouse", "results/web/app",
                "taskset -c 0 python scripts/bench/web_app.py artifacts/sudoku9-onnx-step-fp32", ("table.md",),
                ("results.json",)),
    ResultsPage("arm64", "ARM64 kernels under qemu", "results/arm64", "trm-edge check-arm ARTIFACT --out FILE.json",
                (), ("default_4x4.json", "sudoku9_minimal.json")),
    ResultsPage("paper-runtimes", "Paper-size sudoku-att through every CPU runtime", "results/paper-runtimes",
                "trm-edge study paper-runtimes", ("table.md",), ("results.json",),
                Chart("step_ms", label=("runtime", "recursion", "batch", "threads"))),
    ResultsPage("paper-int8", "Paper-size models in int8: each step against its GEMM peak", "results/paper-int8",
                "taskset -c 0 trm-edge study paper-int8", ("table.md",), ("results.json",),
                Chart("step_ms", label=("model", "runtime", "recursion", "precision"))),
    ResultsPage("paper", "Paper-size sudoku-att: exports, memory, GEMM peaks", "results/paper/sudoku-att-runtimes",
                "bash scripts/bench/paper_runtimes.sh", ("exports.txt", "memory.txt", "gemm.txt"), ("gemm.json",)),
    ResultsPage("paper-bench", "Paper-size models: PyTorch at 1 and 2 threads", "results/paper-bench",
                "trm-edge study paper-bench", ("table.md",), ("results.json",),
                Chart("step_ms", label=("model", "batch", "threads"))),
    ResultsPage("h100", "CUDA rows (one H100)", "results/h100", "bash scripts/bench/bench_cuda.sh",
                ("bench.txt", "bench.png"), ("bench.json",)),
)


def results_page(page: ResultsPage) -> str:
    folder = REPO / page.folder
    lines = [f"# {page.title}", "", f"Measured by `{page.command}`; written to `{page.folder}/`."]
    present = [name for name in page.data if (folder / name).is_file()]
    if present:
        lines.append("Generated from " + ", ".join(f"`{page.folder}/{name}`" for name in present) + ".")
    lines.append("")
    for name in page.show:
        path = folder / name
        if not path.is_file():
            continue
        if path.suffix == ".md":
            lines += [path.read_text(), ""]
        elif path.suffix == ".png":
            target = f"results/{page.slug}/{path.name}"
            with mkdocs_gen_files.open(target, "wb") as fh:
                fh.write(path.read_bytes())
            lines += [f"![{page.title}]({page.slug}/{path.name})", ""]
        else:
            lines += ["```", path.read_text().rstrip(), "```", ""]
    if page.chart is not None and present:
        lines += [_chart(page, folder / page.data[0]), ""]
    if not page.show:
        lines += _arm_summary(folder, page.data)
    return "\n".join(lines) + "\n"


def _chart(page: ResultsPage, results: Path) -> str:
    """The page's chart, drawn from its results file as the site builds (never a picture typed in by hand)."""
    target = f"results/{page.slug}/chart.png"
    with mkdocs_gen_files.open(target, "wb") as fh:
        fh.write(page.chart.draw(json.loads(results.read_text())["rows"], page.title))
    return f"![{page.title}: chart of {results.name}]({page.slug}/chart.png)"


def _arm_summary(folder: Path, names: tuple[str, ...]) -> list[str]:
    """The ARM64 records are JSON only: one row per artifact checked against the x86 run of the same file."""
    out = ["| record | artifact | status | puzzles | cell agreement vs x86 | exact (ARM64) | exact (PyTorch) |",
           "|---|---|---|---|---|---|---|"]
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text())
        checks = record.get("checks", [])
        for check in checks if isinstance(checks, list) else [checks]:
            x86 = check.get("x86") or {}
            out.append(f"| `{path.name}` | {check.get('variant')} | {check.get('status')} | {check.get('puzzles')} | "
                       f"{x86.get('cell_agreement', float('nan')):.4f} | {x86.get('exact_accuracy_artifact')} | "
                       f"{x86.get('exact_accuracy_pytorch')} |")
    return out + [""]


def write_results() -> None:
    for page in RESULTS:
        with mkdocs_gen_files.open(f"results/{page.slug}.md", "w") as fh:
            fh.write(results_page(page))


def main() -> None:
    write_commands()
    with mkdocs_gen_files.open("reference/targets.md", "w") as fh:
        fh.write(targets_page())
    for t in targets.all_targets().values():
        with mkdocs_gen_files.open(f"reference/targets/{t.name}.md", "w") as fh:
            fh.write(target_page(t))
    with mkdocs_gen_files.open("reference/tasks.md", "w") as fh:
        fh.write(tasks_page())
    write_results()


if __name__ in ("__main__", "<run_path>"):   # mkdocs-gen-files runs this file; a test imports it
    main()
