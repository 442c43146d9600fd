"""setup: the helper environments other commands need."""
from __future__ import annotations

import typer

from ..envs import HelperEnv
from .common import (app, note, user_errors)


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
    from ..envs import build

    with user_errors(tool_failure=f"setup {name.value} failed"):
        folder = build(name, rebuild, log=note)
    typer.echo(f"{name.value}: {folder}")
