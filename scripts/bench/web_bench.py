"""The browser row of the bench: step time of an ONNX step artifact in ONNX Runtime Web (WASM, 1 thread and
more when the page is cross-origin isolated) in headless Chromium, next to ONNX Runtime's native CPU step, on
the same puzzles with all steps run; and whether WebGPU has an adapter there.

    python scripts/bench/web_bench.py ARTIFACT [--puzzles 20] [--threads 1,2] [--out results/web]

Writes OUT/results.json and OUT/table.md (generated from it).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from trm_edge.bench.report import write_results
from trm_edge.artifact import read_meta, source_path
from trm_edge.data import sudoku
from trm_edge.datasets.splits import DataSpec, held_out
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.runtime.artifacts import load_runner
from trm_edge.web.serve import start
from trm_edge.web.site import SiteRequest, build_site

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def browser_rows(url: str, puzzles: list[str], threads: list[int]) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        for t in threads:
            page = browser.new_page()
            page.goto(f"{url}?threads={t}")
            page.wait_for_selector("body[data-state=ready]", timeout=120_000)
            page.select_option("#halting", "fixed")
            ms = []
            for puzzle in puzzles:
                page.fill("#puzzle", puzzle)
                page.click("#solve")
                page.wait_for_selector("body[data-state=done]", timeout=120_000)
                ms.append(float(page.inner_text("#ms")))
            rows.append({"runtime": "onnxruntime-web (WASM, headless Chromium)",
                         "threads": int(page.get_attribute("body", "data-threads")), "threads_asked": t,
                         "step_ms_median": float(np.median(ms)), "puzzles": len(puzzles),
                         "environment": page.inner_text("#env")})
            page.close()
        browser.close()
    return rows


def native_row(artifact: Path, data, threads: int) -> dict:
    runner = load_runner(artifact, threads=threads)
    per_step = []
    for i in range(len(data)):
        t0 = time.perf_counter()
        res = runner.solve(data.inputs[i:i + 1], data.puzzle_identifiers[i:i + 1], halting="fixed")
        per_step.append(1000 * (time.perf_counter() - t0) / int(res.steps[0]))
    return {"runtime": "onnxruntime (native CPU EP)", "threads": threads, "step_ms_median": float(np.median(per_step)),
            "puzzles": len(data)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("artifact", type=Path)
    ap.add_argument("--puzzles", type=int, default=20)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "web")
    args = ap.parse_args()
    meta = read_meta(args.artifact)
    ckpt = load_checkpoint(source_path(args.artifact, meta))
    data = held_out(DataSpec.from_saved(ckpt.info["data_spec"]), args.puzzles, "minimal")
    puzzles = [sudoku.to_text(sudoku.decode(x, meta.grid_shape[0])) for x in data.inputs]
    threads = [int(t) for t in args.threads.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        site = build_site(SiteRequest(args.artifact, Path(tmp) / "site"))
        server = start(site)
        rows = browser_rows(f"http://127.0.0.1:{server.server_address[1]}/", puzzles, threads)
        server.shutdown()
    rows += [native_row(args.artifact, data, t) for t in threads]
    result = {"command": " ".join(["python", "scripts/bench/web_bench.py", *sys.argv[1:]]), "artifact": str(args.artifact),
              "halting": "fixed", "steps_per_puzzle": meta.halt_max_steps, "rows": rows}
    lines = ["| runtime | threads | step ms (median over puzzles) |", "|---|---|---|"]
    lines += [f"| {r['runtime']} | {r['threads']} | {r['step_ms_median']:.2f} |" for r in rows]
    env = next((r["environment"] for r in rows if "environment" in r), "")
    text = "\n".join(lines) + f"\n\nBrowser: {env}\n"
    write_results(args.out, result, text)
    print(text)


if __name__ == "__main__":
    main()
