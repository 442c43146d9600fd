"""export: a checkpoint to an artifact folder, its options in panels from the target registry."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

import typer

from .. import targets
from .common import (app, _at_least, _check_depth, fail, H_CYCLES_HELP, L_CYCLES_HELP, note, _one_line, PanelledCommand,
                     Precision, precision_value, RecursionMode, TargetName, user_errors)


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
                                                "a step's T x (n+1) calls (one copy of the weights in memory).",
                                            rich_help_panel=WHAT),
    quantize: Optional[Precision] = typer.Option(None, help="fp32 (also: none) | fp16 | int8 | int4 (onnx: 4-bit "
                                                      "weight blocks) | palette4 | palette6 (Core ML: "
                                                      "4/6-bit k-means weight palettes) | w16a16 | w8a16 | w8a8 "
                                                      "(qnn: 16/8-bit weights, 16/8-bit activations). Default: the target's first "
                                                      "(none; fp16 for qnn). See --list-targets.",
                                                 rich_help_panel=WHAT),
    calibration: int = typer.Option(0, help="With int4: the step inputs whose layer inputs GPTQ keeps close (0 = "
                                            "4096). With int8: N>0 calibrates static activation ranges on N step inputs "
                                            "taken along real y/z trajectories; 0 = dynamic int8. w16a16/w8a16/w8a8 "
                                            "are always calibrated (0 = 256 step inputs).", rich_help_panel=WHAT),
    out: Optional[Path] = typer.Option(None, help="Artifact folder (default "
                                                  "artifacts/<model>-<target>-<recursion>-<precision>[-T<h>n<l>]).",
                                       rich_help_panel=CHECKS),
    batch: int = typer.Option(1, help="Batch size baked into the graph (apps solve one puzzle: 1).",
                              rich_help_panel=WHAT),
    parity_puzzles: Optional[int] = typer.Option(None, help="Held-out puzzles for the parity check (0 to skip; "
                                                            "default 200, 8 for qnn, whose simulator is slow).",
                                                 rich_help_panel=CHECKS),
    parity_band: Optional[str] = typer.Option(None, help="Check parity on generated Sudoku of one difficulty "
                                                         "instead of the test split: 'minimal' or a givens range "
                                                         "like 30-36 (hard puzzles show what a precision costs).",
                                              rich_help_panel=CHECKS),
    data_path: Optional[Path] = typer.Option(None, help="Puzzles for parity/calibration when the checkpoint names "
                                                        "none.",
                                             rich_help_panel=CHECKS),
    official_config: Optional[Path] = typer.Option(None, help="all_config.yaml for an official checkpoint.",
                                                   rich_help_panel=CHECKS),
    ort: bool = _target_option("ort", False),
    delegate: Optional[str] = _target_option("delegate"),
    int8_scheme: Optional[str] = _target_option("int8-scheme"),
    soc: Optional[str] = _target_option("soc"),
    w16_weights: Optional[str] = _target_option("w16-weights"),
    allow_cpu_fallback: bool = _target_option("allow-cpu-fallback", False),
    android_assets: Optional[Path] = typer.Option(None, help="Also copy the artifact files into this folder "
                                                             "(e.g. android_demo/app/src/main/assets/trm).",
                                                  rich_help_panel=CHECKS),
    overwrite: bool = typer.Option(False, help="Replace an existing artifact folder (only one trm-edge wrote).",
                                   rich_help_panel=CHECKS),
    allow_parity_failure: bool = typer.Option(False, help="Exit 0 even when the artifact misses its parity budget "
                                                          "(the artifact is kept either way; parity.json says failed).",
                                              rich_help_panel=CHECKS),
    h_cycles: Optional[int] = typer.Option(None, help=H_CYCLES_HELP + " Baked into the graphs and the metadata "
                                                                      "(the net host schedule and the apps read it).",
                                           rich_help_panel=WHAT),
    l_cycles: Optional[int] = typer.Option(None, help=L_CYCLES_HELP, rich_help_panel=WHAT),
    list_targets: bool = typer.Option(False, "--list-targets", help="Print what each target supports and exit.",
                                      rich_help_panel=CHECKS),
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
        from ..export.api import ExportJob, run_export

        folder = run_export(ExportJob(
            checkpoint, target, out, recursion=recursion, quantize=quantize, calibration=calibration, batch=batch,
            parity_puzzles=parity_puzzles, parity_band=parity_band, data_path=str(data_path) if data_path else None,
            overwrite=overwrite,
            official_config=str(official_config) if official_config else None, log=note, h_cycles=h_cycles,
            l_cycles=l_cycles, options=_target_option_values(ctx.params)))
    parity = json.loads((folder / "parity.json").read_text())
    copied = ""
    if android_assets:
        from ..export.android import copy_to_android_assets

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
    from ..artifact import shipped_size
    from ..export.summary import next_step, parity_detail

    size = shipped_size(folder)
    colour = {"ok": typer.colors.GREEN, "failed": typer.colors.RED}.get(parity["status"])
    typer.echo(f"artifact: {folder}{copied}")
    typer.echo(f"size:     {size / 1e6:.2f} MB")
    typer.echo("parity:   " + typer.style(parity["status"], fg=colour, bold=True) + f" ({parity_detail(parity)})")
    typer.echo(f"time:     {seconds:.1f} s")
    typer.echo(f"next:     {next_step(folder, bool(copied))}")


def _check_android_assets(dest: Path, target: str, recursion: str, batch: int, delegate: str) -> None:
    """Before the export: the app can run what is asked for, and the folder takes its files."""
    from ..artifact import INIT_STATE_FILE, METADATA_FILE, PARITY_FILE
    from ..export.android import SAMPLES_FILE, check_assets_folder, unsupported

    reason = unsupported(target, recursion, batch, delegate)
    if reason:
        raise ValueError(f"--android-assets: {reason}")
    names = [targets.get(target).model_file, INIT_STATE_FILE, METADATA_FILE, PARITY_FILE, SAMPLES_FILE]
    check_assets_folder(dest, names)
