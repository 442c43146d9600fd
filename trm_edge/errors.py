"""Exceptions every layer may raise and the CLI turns into one line (kept free of heavy imports)."""
from __future__ import annotations


class Interrupted(Exception):
    """Ctrl-C during long work; the message says what was kept."""


class UnsupportedOnHost(RuntimeError):
    """The artifact is valid but this machine cannot execute it (e.g. Core ML off macOS)."""


class CheckpointError(ValueError):
    """A file that is not a usable TRM checkpoint; the message says what does not match."""
