"""Data-parallel training over processes started by torchrun: which rank this is, and the few collectives
training needs. Every rank draws the same global batch and keeps its own slice (so N processes compute
exactly what one process does with the same global batch and seed); gradients are summed across ranks."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..subproc import die_with_parent


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def shard(self, global_rows: int) -> slice:
        """This rank's rows of a global batch."""
        per = global_rows // self.world
        return slice(self.rank * per, (self.rank + 1) * per)


def from_env() -> Ranks:
    """The ranks torchrun describes in the environment (one process: rank 0 of 1)."""
    return Ranks(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                 int(os.environ.get("LOCAL_RANK", 0)))


def setup(ranks: Ranks, device: torch.device) -> torch.device:
    """Join the process group (NCCL on CUDA, gloo on CPU); each CUDA rank takes its own device."""
    if not ranks.active:
        return device
    die_with_parent()   # a worker of a launcher killed with SIGKILL must not train on as an orphan
    if device.type == "cuda":
        device = torch.device("cuda", ranks.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def teardown(ranks: Ranks) -> None:
    if ranks.active and dist.is_initialized():
        dist.destroy_process_group()


def sum_gradients(params, ranks: Ranks) -> None:
    """Gradients summed over ranks: each rank's loss is already divided by the global batch size."""
    if not ranks.active:
        return
    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)


def gather_rows(t: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    """Concatenate every rank's rows in rank order (equal row counts)."""
    if not ranks.active:
        return t
    parts = [torch.empty_like(t) for _ in range(ranks.world)]
    dist.all_gather(parts, t.contiguous())
    return torch.cat(parts)


def barrier(ranks: Ranks) -> None:
    if ranks.active:
        dist.barrier()
