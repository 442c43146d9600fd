"""`python -m trm_edge ...` is `trm-edge ...` (what torchrun launches for data-parallel training)."""
from .cli import main

if __name__ == "__main__":
    main()
