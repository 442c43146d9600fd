"""bench, check-arm, study: the commands that measure artifacts."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..envs import ARM_CPU
from .common import (app, _at_least, _check_threads, MAX_STEPS_HELP, note, physical_cores, TRIES_HELP, user_errors)


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
    band: Optional[str] = typer.Option(None, help="Generated Sudoku of one difficulty instead of the test split: "
                                                  "'minimal' (no given can be removed) or a givens range like 30-36."),
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
      trm-edge bench artifacts/sudoku9-onnx-step-fp32 --band minimal --halting stable-2
    """
    from ..bench import write_outputs
    from ..bench.harness import BenchRequest, run_bench
    from ..files import check_writable_dir
    from ..bench.report import estimate_table, measured_table

    with user_errors():
        check_writable_dir(out)
        req = BenchRequest(list(artifacts or []), sorted(set(threads)) if threads else sorted({1, physical_cores()}),
                           device, puzzles, halting.split(","), checkpoint, data_path, large_batch, repeats,
                           budget_s=budget_s, max_steps=max_steps, throughput=throughput, tries=tries,
                           band=band).checked()
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
    from ..bench.arm import ArmEnv, ArmEnvMissing, ArmRun, run_checks
    from ..bench.harness import resolve_data_spec
    from ..bench.report import arm_table
    from ..datasets.splits import DataSpec, held_out
    from ..files import check_writable_file, replace_file

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
def study(
    name: str = typer.Argument(..., metavar="STUDY", help="A study under studies/ (e.g. fp32-parity) or a path to a "
                                                          "study .toml file."),
    out: Optional[Path] = typer.Option(None, "--out", help="Results folder (default results/<name>): results.json "
                                                              "and table.md are replaced whole when the study ends."),
    puzzles: Optional[list[int]] = typer.Option(None, "--puzzles", help="Puzzle counts instead of the study's "
                                                "(parity: repeat for several; solve: one): a quicker first look."),
) -> None:
    """Run a study: one measured question written as data (models x exports checked for parity, or models x
    bands x halting rules x step limits x tries solved), measured through the library's own export, parity
    check and evaluate, written to results/<name>/ for the docs pages.

    Examples:

    \b
      trm-edge study fp32-parity
      trm-edge study valid-halting --puzzles 50
    """
    import shlex
    import sys
    from dataclasses import replace

    from ..bench.studies import Study, StudyRun, find_study, run_study

    with user_errors(tool_failure=f"study {name} failed"):
        spec = Study.load(find_study(name))
        if puzzles:
            _at_least(min(puzzles), 1, "--puzzles")
            spec = replace(spec, how=spec.how.with_puzzles(puzzles))
        folder = out or Path("results") / spec.name
        run_study(StudyRun(spec, folder, "trm-edge " + shlex.join(sys.argv[1:]), log=note))
    typer.echo(f"results: {folder / 'results.json'} and {folder / 'table.md'}")
