"""What an export says when it is done, in words a person reads: the parity verdict's figures and what to run
next for this artifact (the CLI prints them)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import targets
from ..artifact import read_meta


def parity_detail(parity: dict[str, Any]) -> str:
    """The figures behind the verdict word: puzzles, exact accuracy of both sides, cell agreement, fp32's one-step
    difference, and for a failure what failed and how to accept it."""
    if parity["status"] == "skipped":
        return parity.get("reason", "")
    detail = (f"{parity['puzzles']} puzzles, exact {parity['exact_accuracy_artifact']:.3f} vs PyTorch "
              f"{parity['exact_accuracy_pytorch']:.3f}, cell agreement {parity['cell_agreement']:.4f}")
    if "teacher_forced" in parity:   # one step on PyTorch's own y/z: the arithmetic, without the chaos
        detail += f", one step {parity['teacher_forced']['max_rel_logit_diff']:.0e} of the logits"
    if parity["status"] == "failed":
        detail += f"; {parity['reason']} (artifact kept; --allow-parity-failure accepts such an export)"
    return detail


def next_step(folder: Path, copied_for_android: bool) -> str:
    """What to run next for this artifact: the app's build, the iOS guide where this host cannot run it, else
    solve and bench."""
    if copied_for_android:
        return "cd android_demo && ./gradlew installDebug   (docs/guides/android.md)"
    if targets.get(read_meta(folder).target).weights_readback:   # runs on Apple devices only
        return "add it to an Xcode project: docs/guides/ios.md"
    return f"trm-edge solve {folder} PUZZLE   |   trm-edge bench {folder}"
