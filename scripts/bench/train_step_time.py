"""Training-step time of candidate CPU-sized 9x9 TRMs (how the sudoku9 preset's size was chosen).

    python scripts/bench/train_step_time.py

One optimizer step = one deep-supervision step (ACT carry, T-1 cycles without grad, stablemax loss,
AdamW) on random 9x9 tokens, timed after two warm-up steps.
"""
from __future__ import annotations

import time

import torch

from trm_edge.model import ACTModel, TRM, TRMConfig
from trm_edge.train.loss import act_loss

CANDIDATES = [(128, 2, 2, 2, 64), (128, 2, 2, 4, 64), (128, 4, 2, 2, 64), (256, 2, 2, 2, 64), (128, 2, 3, 4, 64),
              (128, 2, 2, 2, 128), (192, 2, 2, 3, 64)]   # (hidden, expansion, T, n, batch)


def step_time(hidden: int, expansion: int, T: int, n: int, batch: int, steps: int = 6) -> tuple[int, float]:
    torch.manual_seed(0)
    cfg = TRMConfig(vocab_size=11, seq_len=81, hidden_size=hidden, expansion=expansion, L_layers=2, H_cycles=T,
                    L_cycles=n, halt_max_steps=16, mlp_t=True, pos_encodings="none", puzzle_emb_ndim=hidden,
                    puzzle_emb_len=1, ffn_multiple=32)
    model = TRM(cfg)
    act = ACTModel(model).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randint(1, 11, (batch, 81)), torch.randint(2, 11, (batch, 81))
    ids = torch.zeros(batch, dtype=torch.long)
    state = act.initial_state(x, y, ids)
    for i in range(steps + 2):
        if i == 2:
            t0 = time.perf_counter()
        state, out = act(state, x, y, ids)
        loss, _ = act_loss(out.logits, out.q_halt, state.labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.num_parameters(), (time.perf_counter() - t0) / steps


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for hidden, expansion, T, n, batch in CANDIDATES:
        params, seconds = step_time(hidden, expansion, T, n, batch)
        print(f"hidden {hidden:3d} expansion {expansion} T={T} n={n} batch {batch:3d}: {params:>9,} params, "
              f"{1000 * seconds:5.0f} ms/step, {batch / seconds:5.0f} samples/s")


if __name__ == "__main__":
    main()
