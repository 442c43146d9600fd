"""Exceptions every layer may raise and the CLI turns into one line (kept free of heavy imports)."""
from __future__ import annotations


class Interrupted(Exception):
    """Ctrl-C during long work; the message says what was kept."""
