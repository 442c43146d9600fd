"""A normal run shows only what trm-edge means to say: no other library's warnings, log lines or C++ chatter on
the terminal (`--verbose` lets them through)."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import REPO, SUDOKU9 as CHECKPOINT

PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
# what other libraries' lines look like: Python warnings, glog/torch/ONNX Runtime log records, C++ source
# locations, tracebacks, another library's progress bars (tqdm's "42%|")
NOISE = re.compile(r"(?i)warn|deprecat|traceback|^\[|^[WIEF]\d{4} |\[[WIEF]:onnxruntime|\.(?:cpp|cc)\b|\.py:\d+|"
                   r"\[(?:INFO|DEBUG)\]|\d%\|")


def _run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "trm_edge", *args], capture_output=True, text=True, timeout=900,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc


def _foreign(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if NOISE.search(line)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An ExecuTorch int8 export of the committed model, and what the command printed."""
    if not CHECKPOINT.is_file():
        pytest.skip("the committed 9x9 model is not in this checkout")
    pytest.importorskip("executorch")
    art = tmp_path_factory.mktemp("quiet") / "et"
    return art, _run("export", str(CHECKPOINT), "--target", "executorch", "--quantize", "int8", "--out", str(art),
                     "--parity-puzzles", "4")


def test_export_solve_and_bench_print_only_our_lines(exported, tmp_path):
    art, export = exported
    assert "parity:" in export.stdout and _foreign(export) == []
    solve = _run("solve", str(art), PUZZLE, "--threads", "1")
    assert "answer:" in solve.stdout and _foreign(solve) == []
    bench = _run("bench", str(art), "--threads", "1", "--puzzles", "2", "--halting", "fixed", "--repeats", "2",
                 "--budget-s", "3", "--out", str(tmp_path / "bench"))
    assert (tmp_path / "bench" / "bench.json").is_file() and _foreign(bench) == [], _foreign(bench)


def test_an_int4_export_prints_only_our_lines(tmp_path):
    """ONNX Runtime's 4-bit quantizer configures logging when first imported, which let it and the ONNX passes log
    every node at INFO."""
    export = _run("export", str(CHECKPOINT), "--target", "onnx", "--quantize", "int4", "--calibration", "64",
                  "--parity-puzzles", "0", "--out", str(tmp_path / "i4"))
    assert "artifact:" in export.stdout and _foreign(export) == [], _foreign(export)[:5]


def test_an_npu_export_prints_only_our_lines(tmp_path):
    """The QNN w8a16 export's calibration session warned about each constant the fused norms left behind."""
    pytest.importorskip("onnxruntime_qnn", reason="the QNN export needs onnxruntime-qnn (the [npu] extra)")
    export = _run("export", str(CHECKPOINT), "--target", "qnn", "--quantize", "w8a16", "--calibration", "32",
                  "--parity-puzzles", "0", "--out", str(tmp_path / "npu"))
    assert "artifact:" in export.stdout and _foreign(export) == [], _foreign(export)[:5]


def test_an_executorch_core_ml_export_prints_only_our_lines(tmp_path):
    """ExecuTorch's Core ML backend converts through coremltools, which draws a progress bar for each pass."""
    pytest.importorskip("coremltools", reason="the Core ML delegate needs coremltools")
    export = _run("export", str(CHECKPOINT), "--target", "executorch", "--delegate", "coreml",
                  "--parity-puzzles", "0", "--out", str(tmp_path / "etcoreml"))
    assert "artifact:" in export.stdout and _foreign(export) == [], _foreign(export)[:5]


def test_verbose_lets_the_other_libraries_speak(exported):
    art, _ = exported
    solve = _run("--verbose", "solve", str(art), PUZZLE, "--threads", "1")
    assert any("cpuinfo" in line for line in _foreign(solve))   # ExecuTorch's own start-up lines, kept by --verbose


@pytest.mark.skipif(not CHECKPOINT.is_file(), reason="the committed 9x9 model is not in this checkout")
def test_global_quiet_leaves_results_and_nothing_else(tmp_path):
    proc = _run("--quiet", "export", str(CHECKPOINT), "--target", "onnx", "--out", str(tmp_path / "o"),
                "--parity-puzzles", "4")
    assert proc.stderr == "" and [line.split(":")[0] for line in proc.stdout.splitlines()] == \
        ["artifact", "size", "parity", "time", "next"]


def test_a_long_single_call_ticks_on_a_terminal_with_the_last_runs_time_as_its_eta(tmp_path, monkeypatch):
    """A converter's one call gives no loop to count: on a terminal its line counts seconds, and once the same
    stage finished here before, it shows that run's time as the ETA; a stage that fails records nothing."""
    import io
    import time

    from trm_edge import progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen, history = Terminal(), tmp_path / "stage-times.json"
    monkeypatch.setattr(sys, "stderr", screen)
    with pytest.raises(RuntimeError), progress.stage("exporting onnx", "k", history):
        raise RuntimeError("the converter failed")
    assert not history.exists()
    with progress.stage("exporting onnx", "k", history):
        time.sleep(1.3)
    assert "exporting onnx: 1 s" in screen.getvalue() and "last run" not in screen.getvalue()
    with progress.stage("exporting onnx", "k", history):
        time.sleep(1.3)
    assert "exporting onnx: 1 s of ~1 s (this stage's last run here)" in screen.getvalue()
