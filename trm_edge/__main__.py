"""`python -m trm_edge ...` is the same as the `trm-edge` command."""
from .cli import app

app()
