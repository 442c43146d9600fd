"""`train --nproc N`: the same command run again under torchrun with N processes, whose workers die with it."""
from __future__ import annotations

import os
import subprocess
from typing import Sequence

import torch

from ..subproc import die_with_parent, python_command


def check_nproc(nproc: int, batch_size: int, device: str) -> None:
    """Refuse, before any work, a process count this machine or this batch cannot serve."""
    if os.environ.get("WORLD_SIZE"):
        raise ValueError("--nproc is for launching; under torchrun already, leave it out")
    if nproc < 1:
        raise ValueError(f"--nproc must be at least 1 (got {nproc})")
    cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    have = torch.cuda.device_count() if cuda else (os.cpu_count() or 1)
    if nproc > have:
        raise ValueError(f"--nproc {nproc} is more than the {have} {'GPUs' if cuda else 'CPU cores'} here")
    if batch_size % nproc:
        raise ValueError(f"batch size {batch_size} does not split over {nproc} processes (--batch-size)")


def without_nproc(argv: Sequence[str]) -> list[str]:
    """The command's arguments less --nproc (the workers are the single-process command)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def launch_data_parallel(nproc: int, batch_size: int, device: str, argv: Sequence[str]) -> int:
    """Run `trm-edge ARGV` (less --nproc) under torchrun with `nproc` processes; their exit code. torchrun dies
    with this process, and its workers with it (each asks for the same at start: train/distributed.setup)."""
    check_nproc(nproc, batch_size, device)
    worker = python_command("trm_edge", without_nproc(argv))   # --no-python: torchrun starts this argv as it is
    cmd = python_command("torch.distributed.run", ["--standalone", f"--nproc-per-node={nproc}", "--no-python", *worker])
    return subprocess.run(cmd, preexec_fn=die_with_parent).returncode
