"""The recursion schedule of one supervision step, written once for PyTorch and for host-driven artifacts.

torch-free: the model passes its own updates (tensors), the runtime passes calls into an exported net
(numpy arrays), so a `--recursion net` artifact runs exactly the order the model was trained with.
"""
from __future__ import annotations

from typing import Callable, TypeVar

A = TypeVar("A")   # a tensor or an array


def cycle(latent_update: Callable[[A, A, A], A], answer_update: Callable[[A, A], A],
          y: A, z: A, x: A, L_cycles: int) -> tuple[A, A]:
    """One cycle: n latent updates z <- f(z, y, x), then one answer update y <- g(y, z). Returns (y, z)."""
    for _ in range(L_cycles):
        z = latent_update(z, y, x)
    return answer_update(y, z), z


def host_step(net: Callable[[A, A], A], y: A, z: A, x: A, H_cycles: int, L_cycles: int) -> tuple[A, A]:
    """T cycles of one exported net call `net(hidden, injection)`: z <- net(z, y + x), y <- net(y, z),
    the same updates as `TRM.latent_update` / `TRM.answer_update` (inference: no cycle is special)."""
    for _ in range(H_cycles):
        y, z = cycle(lambda z_, y_, x_: net(z_, y_ + x_), net, y, z, x, L_cycles)
    return y, z
