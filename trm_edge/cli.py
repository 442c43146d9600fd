"""`trm-edge` command line: train, evaluate, import-official, export, bench."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Train the Tiny Recursive Model (TRM) and ship it to phones.\n\n"
         "Typical flow:  trm-edge train  ->  trm-edge export runs/sudoku4-tiny/checkpoint.pt --target onnx  "
         "->  trm-edge bench artifacts/*",
)


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
def train(
    preset: str = typer.Option("sudoku4-tiny", help="Named preset (see --list-presets). The default trains on a CPU in minutes."),
    task: Optional[str] = typer.Option(None, help="Override the preset's task: sudoku, maze or arc."),
    grid_size: Optional[int] = typer.Option(None, help="Generated grid side: sudoku 4/6/9, maze >= 5."),
    data_path: Optional[Path] = typer.Option(None, help="Official CSV, built dataset folder (dataset.json + all__*.npy) or ARC JSON folder instead of generated puzzles."),
    steps: Optional[int] = typer.Option(None, help="Optimizer steps (each is one deep-supervision step of a batch)."),
    batch_size: Optional[int] = typer.Option(None, help="Batch size."),
    lr: Optional[float] = typer.Option(None, help="Peak learning rate."),
    eval_every: Optional[int] = typer.Option(None, help="Evaluate and checkpoint every N steps."),
    out: Optional[Path] = typer.Option(None, help="Run folder (default runs/<preset>)."),
    device: str = typer.Option("auto", help="auto (CUDA if present), cpu or cuda."),
    resume: Optional[Path] = typer.Option(None, help="Continue from this run's checkpoint.pt (same config)."),
    seed: Optional[int] = typer.Option(None, help="Random seed for data and init."),
    list_presets: bool = typer.Option(False, "--list-presets", help="Print the presets and exit."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Train a TRM with deep supervision, ACT halting, EMA and stablemax loss; writes RUN/checkpoint.pt."""
    from .train import PRESETS, get_preset
    from .train import train as run_training

    if list_presets:
        for name, p in PRESETS.items():
            typer.echo(f"{name:15s} {p.description}")
        return
    try:
        p = get_preset(preset)
        spec_changes = {k: v for k, v in dict(task=task, grid_size=grid_size,
                                               path=str(data_path) if data_path else None, seed=seed).items() if v is not None}
        spec = dataclasses.replace(p.data, **spec_changes)
        cfg_changes = {k: v for k, v in dict(steps=steps, batch_size=batch_size, lr=lr, eval_every=eval_every,
                                              seed=seed).items() if v is not None}
        cfg = dataclasses.replace(p.train, **cfg_changes)
        result = run_training(spec, cfg, out or Path("runs") / preset, device=device, resume=resume, progress=not quiet)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        fail(str(exc))
    typer.echo(f"done: {result.steps} steps in {result.minutes:.1f} min, test exact accuracy "
               f"{result.test_accuracy:.3f}; checkpoint {result.checkpoint}")


@app.command()
def evaluate(
    checkpoint: Path = typer.Argument(..., help="trm-edge checkpoint or official step_<N> file."),
    puzzles: int = typer.Option(500, help="How many test puzzles."),
    halting: str = typer.Option("fixed", help="fixed: all N_sup steps (official eval); act: stop when q_halt > 0."),
    data_path: Optional[Path] = typer.Option(None, help="Evaluate on this dataset instead of the checkpoint's own test split."),
    official_config: Optional[Path] = typer.Option(None, help="all_config.yaml for an official checkpoint."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
) -> None:
    """Exact-puzzle accuracy of a checkpoint on held-out puzzles."""
    from .data import load_split
    from .model.checkpoint import CheckpointError, load_checkpoint
    from .train.trainer import evaluate as run_eval, pick_device

    try:
        ckpt = load_checkpoint(checkpoint, official_config)
        spec = _data_spec_of(ckpt, data_path)
        data = load_split(spec, "test").subset(slice(0, puzzles))
        dev = pick_device(device)
        metrics = run_eval(ckpt.build_model(dev), data, dev, halting)
    except (CheckpointError, ValueError, FileNotFoundError, RuntimeError) as exc:
        fail(str(exc))
    typer.echo(json.dumps(metrics, indent=2))


def _data_spec_of(ckpt, data_path: Optional[Path]):
    from .data.tasks import spec_for

    spec = spec_for((ckpt.info or {}).get("data_spec"), ckpt.data_meta.task if ckpt.data_meta else None, data_path)
    if spec is None:
        raise ValueError("this checkpoint does not say what data it was trained on: pass --data-path")
    return spec


@app.command("import-official")
def import_official(
    checkpoint: Path = typer.Argument(..., help="A step_<N> file written by SamsungSAILMontreal/TinyRecursiveModels."),
    config: Optional[Path] = typer.Option(None, "--config", help="The all_config.yaml saved beside it, if any."),
    out: Path = typer.Option(..., help="Where to write the trm-edge checkpoint."),
    seq_len: Optional[int] = typer.Option(None, help="Grid length, when neither the yaml nor the tensors tell it."),
    h_cycles: Optional[int] = typer.Option(None, help="T (H_cycles), when no yaml is given."),
    l_cycles: Optional[int] = typer.Option(None, help="n (L_cycles), when no yaml is given."),
) -> None:
    """Convert an official TRM checkpoint (bare state dict, `_orig_mod.model.inner.` keys) into a trm-edge checkpoint."""
    from .model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

    overrides = {k: v for k, v in dict(seq_len=seq_len, H_cycles=h_cycles, L_cycles=l_cycles).items() if v is not None}
    try:
        ckpt = load_checkpoint(checkpoint, config, overrides)
        model = ckpt.build_model()
    except CheckpointError as exc:
        fail(str(exc))
    for note in ckpt.info.get("notes", []):
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
    save_checkpoint(out, model, ckpt.data_meta, info={"imported_from": str(checkpoint), "source_sha256": ckpt.sha256,
                                                      "source": ckpt.source, **ckpt.info})
    c = ckpt.config
    typer.echo(f"imported {ckpt.source} checkpoint: {'MLP' if c.mlp_t else 'attention'} TRM, hidden {c.hidden_size}, "
               f"vocab {c.vocab_size}, seq {c.seq_len}, T={c.H_cycles}, n={c.L_cycles}, "
               f"{model.num_parameters():,} params -> {out}")


@app.command()
def export(
    checkpoint: Optional[Path] = typer.Argument(None, help="trm-edge checkpoint, or an official step_<N> file."),
    target: Optional[str] = typer.Option(None, help="executorch | coreml | onnx | tflite (required)."),
    recursion: str = typer.Option("step", help="step: one supervision step (y, z in and out) that the app loops "
                                                "with early halting; unrolled: all N_sup steps in one graph; "
                                                "loop (onnx, batch 1): the step inside an ONNX Loop that halts itself; "
                                                "stateful (coreml): y/z kept as Core ML states, tokens + reset in."),
    quantize: str = typer.Option("none", help="none (fp32) | fp16 | int8 | palette4 | palette6 (Core ML: 4/6-bit "
                                              "k-means weight palettes). See --list-targets."),
    calibration: int = typer.Option(0, help="With int8: N>0 calibrates static activation ranges on N step inputs "
                                            "taken along real y/z trajectories; 0 = dynamic int8."),
    out: Optional[Path] = typer.Option(None, help="Artifact folder (default artifacts/<target>-<recursion>-<quantize>)."),
    batch: int = typer.Option(1, help="Batch size baked into the graph (apps solve one puzzle: 1)."),
    parity_puzzles: int = typer.Option(200, help="Held-out puzzles for the parity check (0 to skip)."),
    data_path: Optional[Path] = typer.Option(None, help="Puzzles for parity/calibration when the checkpoint names none."),
    official_config: Optional[Path] = typer.Option(None, help="all_config.yaml for an official checkpoint."),
    ort: bool = typer.Option(False, "--ort", help="ONNX only: also write the .ort mobile format."),
    delegate: str = typer.Option("xnnpack", help="ExecuTorch only: xnnpack (CPU, Android and iOS) or coreml "
                                                 "(Core ML, iOS/macOS; XNNPACK takes what Core ML cannot)."),
    android_assets: Optional[Path] = typer.Option(None, help="Also copy the artifact files into this folder "
                                                             "(e.g. android_demo/app/src/main/assets/trm)."),
    overwrite: bool = typer.Option(False, help="Replace an existing artifact folder."),
    list_targets: bool = typer.Option(False, "--list-targets", help="Print what each target supports and exit."),
) -> None:
    """Export a checkpoint to a phone artifact folder: model file, metadata.json, init_state.f32 and parity.json.

    Examples:\n
      trm-edge export runs/sudoku4-tiny/checkpoint.pt --target onnx\n
      trm-edge export runs/sudoku4-tiny/checkpoint.pt --target executorch --quantize int8 --calibration 256\n
      trm-edge export runs/sudoku4-tiny/checkpoint.pt --target executorch --delegate coreml --quantize fp16\n
      trm-edge export runs/sudoku4-tiny/checkpoint.pt --target onnx --recursion loop --ort\n
      trm-edge export runs/sudoku4-tiny/checkpoint.pt --target coreml --recursion unrolled --quantize fp16
    """
    from .export import SUPPORT, ExportError, export_checkpoint
    from .model.checkpoint import CheckpointError

    if list_targets:
        for name, sup in SUPPORT.items():
            typer.echo(f"{name:11s} recursion: {'/'.join(sup.modes):24s} quantize: {'/'.join(sup.quantize):36s} {sup.note}")
        return
    if checkpoint is None or target is None:
        fail("export needs a CHECKPOINT and --target (see trm-edge export --help)")
    label = quantize if not (quantize == "int8" and calibration) else "int8-static"
    name = f"{target}-{delegate}" if delegate != "xnnpack" else target
    out = out or Path("artifacts") / f"{name}-{recursion}-{label}"
    try:
        folder = export_checkpoint(checkpoint, target, out, recursion, quantize, calibration, batch,
                                   parity_puzzles, str(data_path) if data_path else None, overwrite, ort,
                                   str(official_config) if official_config else None, delegate,
                                   log=lambda m: typer.echo(m, err=True))
    except (ExportError, CheckpointError, FileExistsError, FileNotFoundError) as exc:
        fail(str(exc))
    except RuntimeError as exc:
        fail(f"{target} export failed: {exc}", code=1)
    parity = json.loads((folder / "parity.json").read_text())
    if parity["status"] == "skipped":
        typer.echo(f"parity: skipped ({parity['reason']})")
    else:
        typer.echo(f"parity on {parity['puzzles']} puzzles: max |logit diff| {parity['max_abs_logit_diff']:.2e}, "
                   f"cell agreement {parity['cell_agreement']:.4f}, exact accuracy "
                   f"{parity['exact_accuracy_artifact']:.3f} vs PyTorch {parity['exact_accuracy_pytorch']:.3f}")
        if parity["status"] == "int8_over_budget":
            typer.secho(f"warning: {parity['reason']}", fg=typer.colors.YELLOW, err=True)
    if android_assets:
        from .export.android import copy_to_android_assets

        try:
            names = copy_to_android_assets(folder, android_assets)
        except ValueError as exc:
            fail(f"artifact written to {folder}, but not copied for Android: {exc}")
        typer.echo(f"copied {', '.join(names)} into {android_assets}")
    typer.echo(f"artifact: {folder}")


@app.command()
def bench(
    artifacts: list[Path] = typer.Argument(None, help="Artifact folders written by trm-edge export."),
    threads: str = typer.Option("1,4", help="CPU thread counts, comma separated (1 and 4: proxies for one and "
                                           "four big phone cores)."),
    device: str = typer.Option("cpu", help="cpu, or cuda to add PyTorch rows on the GPU (fp32/bf16, eager and compile)."),
    puzzles: int = typer.Option(100, help="Held-out puzzles per row."),
    halting: str = typer.Option("fixed,act", help="fixed (all N_sup steps), act (stop when q_halt > 0), or both."),
    checkpoint: Optional[Path] = typer.Option(None, help="PyTorch reference checkpoint (default: the artifacts' source)."),
    data_path: Optional[Path] = typer.Option(None, help="Puzzles to use instead of the checkpoint's test split."),
    large_batch: int = typer.Option(64, help="Second batch size for the PyTorch rows (throughput)."),
    repeats: int = typer.Option(64, help="Timed step calls per row (after warm-up)."),
    out: Path = typer.Option(Path("bench_results"), help="Folder for bench.json, bench.txt and bench.png."),
) -> None:
    """Latency, memory, size and accuracy of every artifact beside the PyTorch reference.

    Each row runs in its own process. CPU rows with 1 and 4 threads are a proxy for phone big cores;
    the phone-chip table is an ESTIMATE from published peak numbers (trm_edge/bench/devices.json).
    """
    from .bench import run_bench, write_outputs
    from .bench.report import estimate_table, measured_table

    try:
        thread_list = [int(t) for t in threads.split(",") if t.strip()]
    except ValueError:
        fail(f"--threads must be integers separated by commas (got {threads!r})")
    modes = [h.strip() for h in halting.split(",") if h.strip()]
    bad = [h for h in modes if h not in ("fixed", "act")]
    if bad or not modes:
        fail(f"--halting takes fixed and/or act (got {halting!r})")
    if device not in ("cpu", "cuda"):
        fail(f"--device must be cpu or cuda (got {device!r})")
    if not artifacts and checkpoint is None:
        fail("give artifact folders and/or --checkpoint")
    try:
        result = run_bench(list(artifacts or []), thread_list, device, puzzles, modes, checkpoint, data_path,
                           large_batch, repeats, log=lambda m: typer.echo(m, err=True))
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    paths = write_outputs(result, out)
    typer.echo(measured_table(result))
    est = estimate_table(result)
    if est:
        typer.echo("\n" + est)
    typer.echo(f"\nwrote {paths['json']}, {paths['table']}, {paths['plot']}")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
