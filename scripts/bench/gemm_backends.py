"""The step's channel-mixing GEMMs alone, through each runtime's CPU kernels: XNNPACK (ExecuTorch), MLAS
(ONNX Runtime) and PyTorch. Tells a graph problem from a kernel problem when one runtime's step is slower:
if the same GEMMs alone are slower by the same factor, no rewrite of the graph closes the gap.

    python scripts/bench/gemm_backends.py CHECKPOINT [--threads 1,2] [--json OUT]

The module is one block's [batch 1, positions, hidden] linears in order (qkv_proj, o_proj, gate_up_proj,
down_proj for attention; gate_up_proj, down_proj for the MLP variant) with the checkpoint's weights. Each
(runtime, threads) runs in a fresh process (ExecuTorch's threadpool is sized before anything loads) and
reports the best of 5 rounds of 0.5 s.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

RUNTIMES = ("onnx", "executorch", "pytorch")
PROBE = r"""
import json, sys, time
import torch
runtime, threads, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(threads)
flops = json.loads(open(folder + "/spec.json").read())["flops"]
x = torch.load(folder + "/x.pt")
if runtime == "executorch":
    from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool
    _unsafe_reset_threadpool(threads)
    from executorch.runtime import Runtime
    method = Runtime.get().load_program(folder + "/gemm.pte").load_method("forward")
    run = lambda: method.execute([x])
elif runtime == "onnx":
    import onnxruntime as ort
    so = ort.SessionOptions(); so.intra_op_num_threads = threads; so.inter_op_num_threads = 1
    session = ort.InferenceSession(folder + "/gemm.onnx", so, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    run = lambda: session.run(None, feed)
else:
    module = torch.jit.load(folder + "/gemm.ts").eval()
    run = lambda: module(x)
best = float("inf")
with torch.no_grad():
    for _ in range(5):
        run(); n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 0.5:
            run(); n += 1
        best = min(best, (time.perf_counter() - t0) / n)
print("GEMM " + json.dumps({"ms": best * 1e3, "gflops": flops / best / 1e9}))
"""


def _chain(weights):
    """x -> x[..., :K] @ W^T for each weight in turn (each layer's output is at least as wide as the next input)."""
    import torch

    class Chain(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList()
            for w in weights:
                lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
                lin.weight.data.copy_(w)
                self.layers.append(lin)

        def forward(self, x):
            for lin in self.layers:
                x = lin(x[..., :lin.in_features])
            return (x,)

    return Chain().eval()


def build(checkpoint: str, folder: Path) -> dict:
    """One block's channel-mixing linears of the checkpoint's model, exported for every runtime into `folder`."""
    import torch
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    from trm_edge.model.checkpoint import load_checkpoint

    model = load_checkpoint(checkpoint).build_model().float().eval()
    block = model.L_level.layers[0]
    weights = [p.detach().clone() for name, p in block.named_parameters()
               if name.endswith("weight") and p.dim() == 2 and not name.startswith("mlp_t")]
    module = _chain(weights)
    x = torch.randn(1, model.config.total_len, model.config.hidden_size)
    spec = {"input": list(x.shape), "weights": [list(w.shape) for w in weights],
            "flops": sum(2 * x.shape[1] * w.shape[0] * w.shape[1] for w in weights)}
    (folder / "spec.json").write_text(json.dumps(spec))
    torch.save(x, folder / "x.pt")
    program = to_edge_transform_and_lower(torch.export.export(module, (x,)), partitioner=[XnnpackPartitioner()])
    (folder / "gemm.pte").write_bytes(program.to_executorch().buffer)
    torch.onnx.export(module, (x,), str(folder / "gemm.onnx"), dynamo=False, input_names=["x"])
    torch.jit.trace(module, (x,)).save(str(folder / "gemm.ts"))
    return spec


def measure(runtime: str, threads: int, folder: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, runtime, str(threads), str(folder)],
                          capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("GEMM ")]
    if not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1][len("GEMM "):])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = build(args.checkpoint, Path(tmp))
        print(f"one block's linears {spec['weights']} on a {spec['input']} input")
        print(f"{'runtime':12s} {'threads':>7s} {'ms':>8s} {'GFLOP/s':>8s} {'x best':>7s}")
        for threads in [int(t) for t in args.threads.split(",")]:
            found = {rt: measure(rt, threads, Path(tmp)) for rt in RUNTIMES}
            best = min((r["ms"] for r in found.values() if "ms" in r), default=float("nan"))
            for rt, r in found.items():
                if "error" in r:
                    print(f"{rt:12s} {threads:7d} error: {r['error']}")
                    continue
                print(f"{rt:12s} {threads:7d} {r['ms']:8.3f} {r['gflops']:8.1f} {r['ms'] / best:7.2f}")
                rows.append({"runtime": rt, "threads": threads, **r})
    if args.json:
        Path(args.json).write_text(json.dumps({"checkpoint": args.checkpoint, **spec, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
