"""The work budget: what a request asks for (net calls of the recursion, puzzles to generate) is estimated before
it starts and refused above a stated budget, so a typo or a crafted file (64 cycles of 64 updates for 1,024
steps; a data spec of 10,000,000 puzzles) is one line instead of hours of silent work. `trm-edge --work-budget X`
multiplies every budget by X for one command."""
from __future__ import annotations

from dataclasses import dataclass

# One net call is one pass of the shared network (n latent updates + 1 answer update per cycle, T cycles per
# supervision step). The 9x9 model runs ~1,000-5,000 net calls a second on one core of this CPU: the defaults
# allow tens of minutes of work and refuse hours.
NET_CALLS_PER_PUZZLE = 100_000       # official depth: 16 steps x 3 cycles x 7 = 336; 32 tries x 64 steps x 8 = 16,384
NET_CALLS = 20_000_000               # all puzzles of one request together
GENERATED_PUZZLES = 1_000_000        # puzzles one request may generate
GRAPH_NET_CALLS = 256                # net calls an exported step graph unrolls (official 3 x 7 = 21)
PARAMETERS = 50_000_000              # a model to train (the paper's: 5-7 million)


@dataclass
class WorkBudget:
    factor: float = 1.0   # --work-budget

    def check_net_calls(self, puzzles: int, max_steps: int, h_cycles: int, l_cycles: int, tries: int = 1,
                        what: str = "this request") -> None:
        """Refuse recursion work above the budget, saying what it adds up to."""
        per_puzzle = max_steps * h_cycles * (l_cycles + 1) * tries
        total = per_puzzle * puzzles
        how = (f"{max_steps} steps x {h_cycles} cycles x {l_cycles + 1} updates"
               + (f" x {tries} tries" if tries > 1 else ""))
        if per_puzzle > NET_CALLS_PER_PUZZLE * self.factor:
            raise ValueError(f"{what} asks for up to {per_puzzle:,} net calls a puzzle ({how}), more than the work "
                             f"budget of {int(NET_CALLS_PER_PUZZLE * self.factor):,}: lower it, or allow it with "
                             f"`trm-edge --work-budget {_factor_for(per_puzzle, NET_CALLS_PER_PUZZLE)} ...`")
        if total > NET_CALLS * self.factor:
            raise ValueError(f"{what} asks for up to {total:,} net calls ({puzzles:,} puzzles x {how}), more than the "
                             f"work budget of {int(NET_CALLS * self.factor):,}: use fewer puzzles, or allow it with "
                             f"`trm-edge --work-budget {_factor_for(total, NET_CALLS)} ...`")

    def check_graph(self, h_cycles: int, l_cycles: int) -> None:
        """An exported step holds T x (n + 1) copies of the network: refuse a graph that takes hours to build."""
        calls = h_cycles * (l_cycles + 1)
        if calls > GRAPH_NET_CALLS * self.factor:
            raise ValueError(f"T={h_cycles}, n={l_cycles} unrolls {calls:,} net calls into every exported step, more "
                             f"than the work budget of {int(GRAPH_NET_CALLS * self.factor):,}: lower --h-cycles / "
                             f"--l-cycles, or allow it with "
                             f"`trm-edge --work-budget {_factor_for(calls, GRAPH_NET_CALLS)} ...`")

    def check_parameters(self, params: int, what: str) -> None:
        if params > PARAMETERS * self.factor:
            raise ValueError(f"this model would have {params:,} parameters ({what}), more than the work budget of "
                             f"{int(PARAMETERS * self.factor):,}: choose a smaller grid or model, or allow it with "
                             f"`trm-edge --work-budget {_factor_for(params, PARAMETERS)} ...`")

    def check_generated(self, count: int, what: str = "the data spec") -> None:
        if count > GENERATED_PUZZLES * self.factor:
            raise ValueError(f"{what} asks to generate {count:,} puzzles, more than the work budget of "
                             f"{int(GENERATED_PUZZLES * self.factor):,}: allow it with "
                             f"`trm-edge --work-budget {_factor_for(count, GENERATED_PUZZLES)} ...`")


def _factor_for(asked: int, budget: int) -> int:
    return max(2, -(-asked // budget))


BUDGET = WorkBudget()   # the one budget of this process, raised by the global --work-budget option
