"""Print the parity reports of artifact folders as a Markdown table (results/default/parity.md).

Where the runtime cannot run on this host (Core ML off macOS), the row shows the weight read-back check
instead: PyTorch with the weights decompressed out of the artifact, marked "readback".
"""
import json
import sys
from pathlib import Path

from trm_edge.artifact import folder_size, read_meta

print("| target | recursion | precision | size KB | max abs logit diff | cell agreement "
      "| exact acc (artifact / PyTorch) | status |")
print("|---|---|---|---|---|---|---|---|")
for folder in map(Path, sys.argv[1:]):
    meta = read_meta(folder)
    p = json.loads((folder / "parity.json").read_text())
    size = folder_size(folder, meta.model_file) / 1024
    target = meta.target + (f" ({meta.extra['delegate']} delegate)" if meta.extra.get("delegate") == "coreml" else "")
    head = f"| {target} | {meta.recursion} | {meta.quantize} | {size:.0f} "
    status = p["status"]
    if status == "skipped":
        status = "not run here: " + p["reason"].split(" (")[0].split(";")[0]
        p = p.get("weights_readback")
        if p is None:
            print(head + f"| - | - | - | {status} |")
            continue
        status += "; weights read back into PyTorch"
    print(head + f"| {p['max_abs_logit_diff']:.2e} | {p['cell_agreement']:.4f} "
          f"| {p['exact_accuracy_artifact']:.3f} / {p['exact_accuracy_pytorch']:.3f} | {status} |")
