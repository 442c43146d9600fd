"""Every command the documentation shows is run as written: the shell blocks of README.md, docs/guides/*.md and
models/*/README.md, each page's commands in order in a fresh scratch folder (the committed models linked in, as
in a checkout), each expected to exit 0. A page is self-contained: what it reads, it makes first. Flags appended
after a command only make it smaller (later flags win: fewer puzzles, a short timing budget; training steps
divided by 100); the few commands that cannot run here are listed below with the reason. The default suite runs
the quick ones and checks that no documented command is left unclassified; the slow suite runs them all."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO

# Commands that cannot run here, by a phrase they contain, with the reason.
CANNOT_RUN = {
    "scripts/install.sh": "the installer: the suite runs after it (CI runs it first)",
    "pip install": "an install: the suite runs in the installed environment",
    "python -m pytest": "this suite itself",
    "data/sudoku-extreme": "the official dataset, downloaded by the user (docs/guides/train.md says where)",
    "import-official step_50000": "official weights, downloaded by the user (docs/guides/train.md says where)",
    "--preset sudoku-mlp --nproc 4": "paper size on 4 GPUs",
}
# Appended to make a run small; a flag given twice takes its last value.
SMALLER = {
    "train": ["--eval-puzzles", "20", "--quiet"],
    "evaluate": ["--puzzles", "20"],
    "export": ["--parity-puzzles", "10"],
    "study": ["--puzzles", "4"],
    "bench": ["--puzzles", "3", "--budget-s", "1", "--repeats", "2", "--threads", "1", "--out", "bench_results"],
    "check-arm": ["--puzzles", "3"],
}
# Quick enough for the default suite (a command containing one of these, and nothing slow).
QUICK = ("--list-presets", "--list-targets", "trm-edge solve models/", "--target onnx --out artifacts/sudoku9-onnx",
         "trm-edge solve artifacts/sudoku9-onnx", "trm-edge evaluate models/", "trm-edge web artifacts/sudoku9-onnx",
         "| trm-edge solve models/")
PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"


@dataclass(frozen=True)
class Documented:
    where: str     # file:line
    command: str   # as written, comments removed, continuations joined

    @property
    def reason_not_run(self) -> str | None:
        for phrase, reason in CANNOT_RUN.items():
            if phrase in self.command:
                return reason
        if "--device cuda" in self.command and not _has_cuda():
            return "needs a CUDA device"
        return None

    @property
    def page(self) -> str:
        return self.where.split(":")[0]

    def runnable(self) -> str:
        """The command as it runs here: smaller through appended flags and a hundredth of the training steps
        (at least 30), --serve dropped (it serves forever)."""
        command = self.command.replace(" --serve", "")
        if re.search(r"(trm-edge|-m trm_edge) train", command) and "--list-presets" not in command:
            command = re.sub(r"--(steps|eval-every) (\d+)", lambda m: f"--{m[1]} {max(30, int(m[2]) // 100)}", command)
            if "--steps" not in command:
                command += " --steps 30 --eval-every 30"
        for name, flags in SMALLER.items():
            command = re.sub(rf"((?:trm-edge|-m trm_edge) {name} [^|&<]*?)(\s*(<|\||&&|$))",
                             lambda m: m.group(1) + " " + " ".join(flags) + m.group(2), command, count=1)
        return command


def _has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def _strip_comment(line: str) -> str:
    """The line up to a `#` that starts a shell comment (outside quotes, after a space)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of each fenced shell block and each indented code block."""
    blocks, current, fence, start = [], None, False, 0
    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            if fence:
                blocks.append((start, current))
                fence, current = False, None
            elif line.strip() in ("```", "```bash", "```sh", "```shell"):
                fence, current, start = True, [], n + 1
            else:   # another language's block: skip to its end
                fence, current = True, []
                start = -1
            continue
        if fence:
            if start != -1:
                current.append(line)
        elif line.startswith("    ") and line.strip().startswith(("trm-edge", "printf", "python", "bash")):
            blocks.append((n, [line.strip()]))
    return [(s, lines) for s, lines in blocks if s != -1]


def documented_commands() -> list[Documented]:
    files = [REPO / "README.md", *sorted((REPO / "docs" / "guides").glob("*.md")),
             *sorted((REPO / "models").glob("*/README.md"))]
    found = []
    for path in files:
        for start, lines in _blocks(path.read_text()):
            joined, first = "", start
            for offset, line in enumerate(lines):
                code = _strip_comment(line)
                if not joined:
                    first = start + offset
                if code.endswith("\\"):
                    joined += code[:-1].strip() + " "
                    continue
                joined = (joined + code.strip()).strip()
                if re.match(r"(trm-edge|python|bash|pip|printf|torchrun)\b", joined):
                    found.append(Documented(f"{path.relative_to(REPO)}:{first}", joined))
                joined = ""
    return found


def _scratch(tmp_path: Path) -> Path:
    """A working folder like a checkout's: the committed models, an Android assets folder, the user's puzzle files."""
    tmp_path.mkdir()
    (tmp_path / "models").symlink_to(REPO / "models")
    (tmp_path / "studies").symlink_to(REPO / "studies")
    (tmp_path / "android_demo" / "app" / "src" / "main" / "assets" / "trm").mkdir(parents=True)
    (tmp_path / "puzzle.txt").write_text(PUZZLE + "\n")
    for name in ("puzzles.txt", "puzzles.csv", "hard.csv"):
        (tmp_path / name).write_text(f"{PUZZLE}\n")
    return tmp_path


def _run_all(commands: list[Documented], root: Path) -> list[str]:
    """Each page's runnable commands in order, in a scratch folder of its own; what failed."""
    failures, folders = [], {}
    env = {**os.environ, "PATH": f"{Path(shutil.which('trm-edge') or 'trm-edge').parent}:{os.environ['PATH']}"}
    for doc in commands:
        if doc.reason_not_run:
            continue
        if doc.page not in folders:
            folders[doc.page] = _scratch(root / f"page{len(folders)}")
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", doc.runnable()], cwd=folders[doc.page], env=env,
                              text=True, capture_output=True, timeout=1800)
        if proc.returncode != 0 or "Traceback" in proc.stderr:
            said = (proc.stderr or proc.stdout).strip().splitlines()
            errors = [line for line in said if "error:" in line]   # a launcher's summary would hide the reason
            failures.append(f"{doc.where}: `{doc.command}` exit {proc.returncode}: {(errors or said)[-1:]}")
    return failures


def test_every_documented_command_is_run_or_listed_with_a_reason():
    commands = documented_commands()
    assert len(commands) > 30, [c.command for c in commands]   # the extraction finds the docs' commands
    strays = [c for c in commands if not c.command.startswith(("trm-edge", "printf", "torchrun"))
              and c.reason_not_run is None]
    assert not strays, [f"{c.where}: {c.command}" for c in strays]
    unused = [phrase for phrase in CANNOT_RUN if not any(phrase in c.command for c in commands)]
    assert not unused, f"listed as not runnable but no longer documented: {unused}"


def test_the_quick_documented_commands_run_as_written(tmp_path):
    quick = [c for c in documented_commands() if any(q in c.command for q in QUICK) and c.reason_not_run is None]
    assert len(quick) >= 8
    assert not _run_all(quick, tmp_path)


@pytest.mark.slow
def test_every_documented_command_runs_as_written(tmp_path):
    assert not _run_all(documented_commands(), tmp_path)
