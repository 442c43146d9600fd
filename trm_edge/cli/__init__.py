"""`trm-edge` command line: each command parses its options, calls one library function and prints. The commands
live in this package's modules, grouped by what they do; importing them registers them on the one app."""
from __future__ import annotations

import typer

from .common import RecursionMode, TargetName, app, missing_package
from . import train, export, bench, solve, envs

COMMAND_MODULES = (train, export, bench, solve, envs)   # importing each registers its commands, in this order
__all__ = ["app", "main", "RecursionMode", "TargetName", "COMMAND_MODULES"]


def main() -> None:
    """The console script: an import a lean install cannot serve, wherever a command hits it, is one line."""
    try:
        app()
    except ImportError as exc:
        typer.secho(f"error: {missing_package(exc)}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main()
