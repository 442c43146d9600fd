"""CUDA checks (skipped without a GPU): training with bf16 autocast, and fp32 agreement with the CPU."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from trm_edge.model import TRM
from trm_edge.train import get_preset, train

from conftest import tiny_config

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]


def test_cuda_forward_matches_cpu_in_fp32():
    torch.manual_seed(0)
    cpu = TRM(tiny_config()).eval()
    gpu = TRM(tiny_config()).eval()
    gpu.load_state_dict(cpu.state_dict())
    gpu = gpu.cuda()
    x = torch.randint(0, 6, (4, 16))
    ids = torch.zeros(4, dtype=torch.long)
    with torch.no_grad():
        a = cpu(cpu.initial_carry(4), x, ids)
        b = gpu(gpu.initial_carry(4, torch.device("cuda")), x.cuda(), ids.cuda())
    torch.testing.assert_close(b.logits.cpu(), a.logits, atol=1e-4, rtol=1e-4)


def test_cuda_training_uses_bf16_autocast_and_learns(tmp_path):
    p = get_preset("sudoku4-tiny")
    cfg = dataclasses.replace(p.train, steps=400, eval_every=400, eval_puzzles=200)
    result = train(p.data, cfg, tmp_path, device="cuda", progress=False)
    assert result.test_accuracy >= 0.8
