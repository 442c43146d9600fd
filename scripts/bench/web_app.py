"""The web app's goals, measured: first load to a verified, loaded model and a repeat visit with the network off
(headless Chromium, localhost, WASM), the site's size, and Lighthouse's accessibility / best-practices /
performance scores with every audit it failed.

    python scripts/bench/web_app.py ARTIFACT [--out results/web/app]

Lighthouse 12.2.3 (the last release for Node 20) is installed with npm into the trm-edge cache on first use.
Writes OUT/results.json and OUT/table.md (generated from it).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trm_edge.bench.report import write_results
from trm_edge.files import cache_dir
from trm_edge.web.serve import start
from trm_edge.web.site import SiteRequest, build_site

REPO = Path(__file__).resolve().parents[2]
LIGHTHOUSE = "lighthouse@12.2.3"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
CATEGORIES = ("accessibility", "best-practices", "performance")


def load_times(url: str) -> dict:
    """Seconds from navigation to a verified, loaded model: first visit, then reloaded with the network off."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("body[data-state=ready]", state="attached", timeout=120_000)
        first = time.perf_counter() - t0
        page.wait_for_selector("body[data-offline=ready]", state="attached", timeout=120_000)
        context.set_offline(True)
        t0 = time.perf_counter()
        page.reload()
        page.wait_for_selector("body[data-state=ready]", state="attached", timeout=120_000)
        offline = time.perf_counter() - t0
        backend = page.inner_text("#runs-on")
        browser.close()
    return {"first_load_s": first, "offline_reload_s": offline, "backend": backend}


def lighthouse(url: str) -> dict:
    """Lighthouse's category scores (0-100) and the audits it failed, on the page as served."""
    prefix = cache_dir() / "lighthouse"
    binary = prefix / "node_modules" / ".bin" / "lighthouse"
    if not binary.is_file():
        subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", LIGHTHOUSE],
                       check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run([str(binary), url, f"--only-categories={','.join(CATEGORIES)}", "--quiet", "--output=json",
                        f"--output-path={report}", "--chrome-flags=--headless=new " + " ".join(ARGS)],
                       check=True, env={**os.environ, "CHROME_PATH": shutil.which("chromium") or ""})
        data = json.loads(report.read_text())
    failed = [{"id": a["id"], "title": a["title"], "score": a["score"]} for a in data["audits"].values()
              if a.get("scoreDisplayMode") in ("binary", "numeric") and a.get("score") is not None and a["score"] < 1]
    return {"version": data["lighthouseVersion"],
            "scores": {k: round(100 * v["score"]) for k, v in data["categories"].items()}, "failed_audits": failed}


def table(result: dict) -> str:
    load, lh = result["load"], result["lighthouse"]
    lines = ["| measure | value | goal |", "|---|---|---|",
             f"| first load to a verified model | {load['first_load_s']:.2f} s | < 3 s |",
             f"| repeat visit, network off | {load['offline_reload_s']:.2f} s | < 1 s |",
             f"| site size (cached once) | {result['site_mb']:.1f} MB | |"]
    lines += [f"| Lighthouse {name} | {score} | {'>= 95' if name != 'performance' else ''} |"
              for name, score in lh["scores"].items()]
    failed = "\n".join(f"- `{a['id']}` ({a['score']}): {a['title']}" for a in lh["failed_audits"]) or "- none"
    return ("\n".join(lines) + f"\n\nRuns on: {load['backend']}. Lighthouse {lh['version']} audits below a full "
            f"score:\n\n{failed}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("artifact", type=Path)
    ap.add_argument("--out", type=Path, default=REPO / "results" / "web" / "app")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = build_site(SiteRequest(args.artifact, Path(tmp) / "site"))
        server = start(site)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1e6
        result = {"command": " ".join(["python", "scripts/bench/web_app.py", *sys.argv[1:]]),
                  "artifact": str(args.artifact), "site_mb": size, "load": load_times(url), "lighthouse": lighthouse(url)}
        server.shutdown()
    text = table(result)
    write_results(args.out, result, text)
    print(text)


if __name__ == "__main__":
    main()
