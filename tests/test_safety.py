"""Hostile and careless input: one line and exit 2, no code run from files, nothing a user owns lost.

One table of bad inputs: each case is a command line, the exit code, a phrase of the message, and the
files that must be left exactly as they were.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from tests.conftest import tiny_config
from trm_edge.cli import app
from trm_edge.data import sudoku
from trm_edge.data.tasks import DataSpec
from trm_edge.export import export_checkpoint
from trm_edge.artifact import ArtifactIntegrityError, verify
from trm_edge.model import TRM
from trm_edge.model.checkpoint import save_checkpoint
from trm_edge.model.official import to_official_state_dict
from trm_edge.runtime.artifacts import load_runner


class Payload:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """A small untrained 4x4 checkpoint, an ONNX artifact of it, and a set of hostile files."""
    root = tmp_path_factory.mktemp("world")
    torch.manual_seed(0)
    model = TRM(tiny_config(vocab_size=sudoku.vocab_size(4), seq_len=16))
    ckpt = root / "run" / "checkpoint.pt"
    spec = DataSpec(task="sudoku", grid_size=4, train_puzzles=50, test_puzzles=20)
    save_checkpoint(ckpt, model, sudoku.meta(4, 50), info={"data_spec": dataclasses.asdict(spec)})
    (root / "run" / "train_log.jsonl").write_text("{}\n")
    artifact = export_checkpoint(ckpt, "onnx", root / "artifact", parity_puzzles=10, log=lambda m: None)
    marker = root / "PWNED"
    evil = root / "evil.pt"
    torch.save({"format": "trm-edge-checkpoint", "version": 1, "payload": Payload(marker)}, evil)
    official = to_official_state_dict(model.state_dict())
    official.pop("_orig_mod.model.inner.L_level.layers.0.mlp.gate_up_proj.weight")
    torch.save(official, root / "official_missing_key")
    (root / "afile").write_text("a file, not a folder\n")
    (root / "mine").mkdir()
    (root / "mine" / "notes.txt").write_text("my own work\n")
    csv = root / "bad.csv"
    good = "".join(str(d) for d in sudoku.generate(1, 4, seed=0)[0][1].ravel())
    csv.write_text("source,question,answer,rating\n"
                   f"x,{good},{good},0\n"
                   f"x,{good[:-1]}.,{good[:-1]}.,0\n")
    mixed = root / "mixed.csv"
    mixed.write_text("source,question,answer,rating\n" f"x,{good},{good},0\n" f"x,{'.' * 81},{'1' * 81},0\n")
    return dict(root=root, ckpt=ckpt, artifact=artifact, marker=marker, evil=evil, afile=root / "afile",
                official=root / "official_missing_key", mine=root / "mine", csv=csv, mixed=mixed)


def _snapshot(paths: list[Path]) -> dict[str, str]:
    """Content hash of every file under the given paths (what must not change)."""
    out = {}
    for p in paths:
        files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file()) if p.exists() else []
        for f in files:
            out[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
        out.setdefault(str(p), "exists" if p.exists() else "absent")
    return out


# (id, argv with {placeholders}, exit code, phrase of the message, paths that must stay as they were)
CASES = [
    ("train-steps-0", "train --steps 0 --out {root}/new", 2, "steps must be at least 1", ["{root}/new"]),
    ("train-steps-negative", "train --steps -5 --out {root}/new", 2, "steps must be at least 1", ["{root}/new"]),
    ("train-batch-0", "train --batch-size 0 --out {root}/new", 2, "batch-size must be at least 1", ["{root}/new"]),
    ("train-eval-every-0", "train --eval-every 0 --out {root}/new", 2, "eval-every must be at least 1", ["{root}/new"]),
    ("train-into-a-run", "train --steps 1 --out {root}/run", 2, "already holds a run", ["{root}/run"]),
    ("train-parent-is-file", "train --steps 1 --out {afile}/run", 2, "is a file", ["{afile}"]),
    ("train-resume-pickle", "train --steps 1 --out {root}/r2 --resume {evil}", 2, "refused to load", ["{root}/r2"]),
    ("train-bad-grid", "train --grid-size 5 --out {root}/g5", 2, "unsupported sudoku size 5", ["{root}/g5"]),
    ("train-bad-csv-answer", "train --data-path {csv} --out {root}/c", 2, "bad.csv:3: the answer has 1 blank", ["{root}/c"]),
    ("train-mixed-csv", "train --data-path {mixed} --out {root}/m", 2, "mixed.csv:3: a 9x9 grid", ["{root}/m"]),
    ("evaluate-pickle", "evaluate {evil}", 2, "refused to load", []),
    ("evaluate-puzzles-0", "evaluate {ckpt} --puzzles 0", 2, "--puzzles must be at least 1", []),
    ("import-pickle", "import-official {evil} --out {root}/imp.pt", 2, "refused to load", ["{root}/imp.pt"]),
    ("import-missing-mlp-key", "import-official {official} --out {root}/imp.pt", 2, "missing", ["{root}/imp.pt"]),
    ("import-out-parent-file", "import-official {official} --out {afile}/x.pt", 2, "is a file", ["{afile}"]),
    ("export-pickle", "export {evil} --target onnx --out {root}/e1", 2, "refused to load", ["{root}/e1"]),
    ("export-calibration-negative", "export {ckpt} --target onnx --quantize int8 --calibration -5 --out {root}/e2", 2,
     "--calibration must be at least 0", ["{root}/e2"]),
    ("export-parity-negative", "export {ckpt} --target onnx --parity-puzzles -1 --out {root}/e3", 2,
     "--parity-puzzles must be at least 0", ["{root}/e3"]),
    ("export-overwrite-user-folder", "export {ckpt} --target onnx --out {mine} --overwrite", 2,
     "not a trm-edge artifact", ["{mine}"]),
    ("export-overwrite-run-folder", "export {ckpt} --target onnx --out {root}/run --overwrite", 2,
     "not a trm-edge artifact", ["{root}/run"]),
    ("export-int8-scheme-other-target", "export {ckpt} --target executorch --quantize int8 --int8-scheme weights "
     "--out {root}/e4", 2, "--int8-scheme does not apply to --target executorch (only to onnx)", ["{root}/e4"]),
    ("export-int8-scheme-not-int8", "export {ckpt} --target onnx --quantize fp16 --int8-scheme weights --out {root}/e5",
     2, "applies to --quantize int8", ["{root}/e5"]),
    ("export-int8-scheme-unknown", "export {ckpt} --target onnx --quantize int8 --int8-scheme int4 --out {root}/e6", 2,
     "unknown --int8-scheme 'int4'", ["{root}/e6"]),
    ("export-parent-is-file", "export {ckpt} --target onnx --out {afile}/art", 2, "is a file", ["{afile}"]),
    ("bench-threads-0", "bench {artifact} --threads 0 --out {root}/b", 2, "--threads", ["{root}/b"]),
    ("bench-threads-negative", "bench {artifact} --threads=-1 --out {root}/b", 2, "--threads", ["{root}/b"]),
    ("bench-pickle", "bench --checkpoint {evil} --threads 1 --out {root}/b", 2, "refused to load", ["{root}/b"]),
    ("bench-not-an-artifact", "bench {mine} --threads 1 --out {root}/b", 2, "not a trm-edge artifact", ["{root}/b"]),
    ("bench-out-is-file", "bench {artifact} --threads 1 --out {afile}", 2, "is a file", ["{afile}"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_line_and_changes_nothing(world, case):
    _, argv, code, phrase, keep = case
    fill = {k: str(v) for k, v in world.items()}
    keep_paths = [Path(k.format(**fill)) for k in keep]
    before = _snapshot(keep_paths)
    result = CliRunner().invoke(app, argv.format(**fill).split())
    out = result.output
    assert result.exit_code == code, out
    assert isinstance(result.exception, SystemExit), repr(result.exception)   # no traceback
    assert phrase in out, out
    assert len([line for line in out.strip().splitlines() if line.startswith("error:")]) == 1, out
    assert _snapshot(keep_paths) == before
    assert not world["marker"].exists(), "a checkpoint ran code"


def test_trojan_artifact_folder_is_refused(world, tmp_path):
    """A folder from someone else: a model path that climbs out, a pickle named as its source checkpoint."""
    trojan = tmp_path / "trojan"
    shutil.copytree(world["artifact"], trojan)
    shutil.copy(world["evil"], trojan / "source.pt")
    meta = json.loads((trojan / "metadata.json").read_text())
    meta["source_checkpoint"] = str(trojan / "source.pt")
    (trojan / "metadata.json").write_text(json.dumps(meta))
    result = CliRunner().invoke(app, ["bench", str(trojan), "--threads", "1", "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "edited after export" in result.output, result.output
    meta["model_file"] = "../../outside.onnx"
    (trojan / "metadata.json").write_text(json.dumps(meta))
    result = CliRunner().invoke(app, ["bench", str(trojan), "--threads", "1", "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "points outside the artifact folder" in result.output, result.output
    assert not world["marker"].exists()


def test_artifact_integrity_refuses_swapped_files_and_edited_metadata(world, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(world["artifact"], folder)
    verify(folder)
    load_runner(folder)
    (folder / "model.onnx").write_bytes((folder / "model.onnx").read_bytes() + b"\0")
    with pytest.raises(ArtifactIntegrityError, match="model.onnx does not match"):
        load_runner(folder)
    shutil.copy(world["artifact"] / "model.onnx", folder / "model.onnx")
    for field, value in (("seq_len", 81), ("vocab_size", 11), ("halt_max_steps", 2)):
        meta = json.loads((world["artifact"] / "metadata.json").read_text())
        meta[field] = value
        (folder / "metadata.json").write_text(json.dumps(meta))
        with pytest.raises(ArtifactIntegrityError, match="edited after export"):
            load_runner(folder)


def test_overwrite_replaces_only_an_artifact_and_cleans_killed_exports(world, tmp_path):
    out = tmp_path / "art"
    export_checkpoint(world["ckpt"], "onnx", out, parity_puzzles=0, log=lambda m: None)
    stale = tmp_path / ".art.partial-killed"
    stale.mkdir()
    (stale / "model.onnx").write_bytes(b"half")
    export_checkpoint(world["ckpt"], "onnx", out, parity_puzzles=0, overwrite=True, log=lambda m: None)
    verify(out)
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_train_overwrite_and_interrupt_say_what_was_kept(world, tmp_path, monkeypatch):
    from trm_edge.train import trainer

    run = tmp_path / "run"
    shutil.copytree(world["ckpt"].parent, run)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer.BatchSampler, "next", interrupted)
    before = _snapshot([run])
    result = CliRunner().invoke(app, ["train", "--steps", "3", "--eval-every", "1", "--out", str(run), "--overwrite"])
    assert result.exit_code == 130, result.output
    assert "interrupted: no checkpoint written by this run" in result.output and "still the earlier one" in result.output
    assert _snapshot([run]) == before   # the earlier run's checkpoint and log are untouched


def test_single_csv_is_split_not_reused(tmp_path):
    from trm_edge.data.formats import write_csv
    from trm_edge.data.tasks import load_splits

    pairs = sudoku.generate(30, 4, seed=3)
    write_csv(sudoku.to_puzzle_set(pairs), tmp_path / "all.csv")
    train, test = load_splits(DataSpec(task="sudoku", path=str(tmp_path / "all.csv")))
    assert (len(train), len(test)) == (27, 3)
    assert not {r.tobytes() for r in train.inputs} & {r.tobytes() for r in test.inputs}
