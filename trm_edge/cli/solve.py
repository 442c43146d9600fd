"""web, solve: the commands that use a model."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import (app, _at_least, _check_depth, _check_port, _check_threads, fail, H_CYCLES_HELP, HALTING_HELP,
                     L_CYCLES_HELP, MAX_STEPS_HELP, note, TRIES_HELP, user_errors)


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
    from ..web.samples import NoSamples, band_samples
    from ..web.site import SiteRequest, build_site, check_request

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

        from ..web.serve import start

        with user_errors():
            server = start(site, port)
        typer.echo(f"serving on http://127.0.0.1:{server.server_address[1]}/  (Ctrl-C stops)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            server.shutdown()


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
    from ..budget import BUDGET
    from ..host_loop import Halting
    from ..runtime.solver import open_chosen
    from ..runtime.tries import check_tries
    from ..runtime.solver import puzzle_lines
    from ..solve_view import solve_file, solve_one

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
