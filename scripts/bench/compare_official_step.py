"""Training-step speed: trm-edge's step next to the official repository's, same config, batch and machine.

    python scripts/bench/compare_official_step.py --official PATH/TO/TinyRecursiveModels [--preset sudoku9] [--batch 64]

The official code is not vendored: pass a checkout of SamsungSAILMontreal/TinyRecursiveModels (it needs
einops and pydantic). Both models get the same architecture (the official SwiGLU width rounding, float32
on the CPU) and the same random batch; one timed step is forward (ACT wrapper + loss) + backward +
optimizer step. The official trainer's optimizer is AdamATan2 (a CUDA extension); both sides use
torch's AdamW here, so the figure compares the model and loss code. samples/s = batch / step time.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from trm_edge.model import ACTModel, TRM, TRMConfig
from trm_edge.train.loss import act_loss
from trm_edge.train.presets import get_preset


def our_step(cfg: TRMConfig, batch: dict, lr: float):
    model = TRM(cfg)
    act = ACTModel(model).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, fused=True)
    x, y, ids = batch["inputs"], batch["labels"], batch["puzzle_identifiers"]
    state = act.initial_state(x, y, ids)

    def step():
        nonlocal state
        state, out = act(state, x, y, ids)
        loss, _ = act_loss(out.logits, out.q_halt, state.labels)
        (loss / x.shape[0]).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def official_step(cfg: TRMConfig, batch: dict, lr: float, repo: Path):
    sys.path.insert(0, str(repo))
    from models.losses import ACTLossHead
    from models.recursive_reasoning.trm import TinyRecursiveReasoningModel_ACTV1

    arch = dict(batch_size=batch["inputs"].shape[0], seq_len=cfg.seq_len, puzzle_emb_ndim=cfg.puzzle_emb_ndim,
                num_puzzle_identifiers=cfg.num_puzzle_identifiers, vocab_size=cfg.vocab_size,
                H_cycles=cfg.H_cycles, L_cycles=cfg.L_cycles, H_layers=0, L_layers=cfg.L_layers,
                hidden_size=cfg.hidden_size, expansion=cfg.expansion, num_heads=cfg.num_heads,
                pos_encodings=cfg.pos_encodings, halt_max_steps=cfg.halt_max_steps,
                halt_exploration_prob=cfg.halt_exploration_prob, forward_dtype="float32", mlp_t=cfg.mlp_t,
                puzzle_emb_len=cfg.puzzle_emb_len, no_ACT_continue=cfg.no_ACT_continue)
    model = ACTLossHead(TinyRecursiveReasoningModel_ACTV1(arch), loss_type="stablemax_cross_entropy").train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, fused=True)
    carry = model.initial_carry(batch)

    def step():
        nonlocal carry
        carry, loss, _, _, _ = model(carry=carry, batch=batch, return_keys=[])
        (loss / batch["inputs"].shape[0]).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def timed(step, steps: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", type=Path, required=True, help="checkout of the official repository")
    ap.add_argument("--preset", default="sudoku9")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10, help="timed steps per round (median)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best round's median counts")
    args = ap.parse_args()
    preset = get_preset(args.preset)
    arch = dict(preset.train.arch, vocab_size=11, seq_len=81, ffn_multiple=256)   # the official width rounding
    cfg = TRMConfig.from_dict(arch)
    torch.manual_seed(0)
    batch = {"inputs": torch.randint(1, 11, (args.batch, 81)), "labels": torch.randint(2, 11, (args.batch, 81)),
             "puzzle_identifiers": torch.zeros(args.batch, dtype=torch.long)}
    print(f"{args.preset} architecture (SwiGLU widths rounded to 256 as the official code does), batch {args.batch}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, best of {args.rounds} alternating rounds "
          f"of {args.steps}-step medians")
    steps = {"trm-edge": our_step(cfg, batch, 1e-4), "official": official_step(cfg, batch, 1e-4, args.official)}
    best = {name: float("inf") for name in steps}
    for _ in range(args.rounds):   # alternate, so neither side always runs on a warmer machine
        for name, step in steps.items():
            best[name] = min(best[name], timed(step, args.steps))
    for name, seconds in best.items():
        print(f"{name:9s} {1000 * seconds:7.1f} ms/step  {args.batch / seconds:7.1f} samples/s")
    print(f"trm-edge / official step time: {best['trm-edge'] / best['official']:.3f}")


if __name__ == "__main__":
    main()
