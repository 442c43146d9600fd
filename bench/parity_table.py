"""Print the parity reports of artifact folders as a Markdown table (the README's parity table)."""
import json
import sys
from pathlib import Path

from trm_edge.export.artifact import folder_size, read_meta

print("| target | precision | size KB | max abs logit diff | cell agreement | exact acc (artifact / PyTorch) | status |")
print("|---|---|---|---|---|---|---|")
for folder in map(Path, sys.argv[1:]):
    meta = read_meta(folder)
    p = json.loads((folder / "parity.json").read_text())
    size = folder_size(folder, meta.model_file) / 1024
    if p["status"] == "skipped":
        print(f"| {meta.target} | {meta.quantize} | {size:.0f} | - | - | - | skipped: {p['reason'][:60]} |")
        continue
    print(f"| {meta.target} | {meta.quantize} | {size:.0f} | {p['max_abs_logit_diff']:.2e} | {p['cell_agreement']:.4f} "
          f"| {p['exact_accuracy_artifact']:.3f} / {p['exact_accuracy_pytorch']:.3f} | {p['status']} |")
