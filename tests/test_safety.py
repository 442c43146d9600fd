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

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tests.conftest import tiny_config
from trm_edge.cli import app
from trm_edge.data import sudoku
from trm_edge.datasets.splits import DataSpec
from trm_edge.export import export_checkpoint
from trm_edge.artifact import ArtifactIntegrityError, verify
from trm_edge.model import TRM
from trm_edge.model.checkpoint import save_checkpoint
from trm_edge.model.official import to_official_state_dict
from trm_edge.runtime.artifacts import load_runner
from conftest import MAZE7


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
    artifact = export_checkpoint(ckpt, "onnx", root / "artifact", parity_puzzles=10)
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
                official=root / "official_missing_key", mine=root / "mine", csv=csv, mixed=mixed,
                **_hostile_files(root, model, ckpt, artifact, spec))


def _crafted(path: Path, base: Path, change) -> Path:
    """A copy of checkpoint `base` with `change(raw)` applied to its saved dict."""
    raw = torch.load(base, weights_only=True)
    change(raw)
    torch.save(raw, path)
    return path


def _resealed(folder: Path, source: Path, change) -> Path:
    """A copy of an artifact with edited metadata, sealed again: only our own checks can refuse it."""
    from trm_edge.artifact import metadata_digest

    shutil.copytree(source, folder)
    meta = json.loads((folder / "metadata.json").read_text())
    change(meta)
    if isinstance(meta.get("files"), dict) and isinstance(meta.get("init_state"), dict):
        from trm_edge.artifact import ArtifactMeta

        meta["metadata_sha256"] = metadata_digest(ArtifactMeta.from_dict(meta))
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder


def _hostile_files(root: Path, model: TRM, ckpt: Path, artifact: Path, spec: DataSpec) -> dict:
    """Files a careless or hostile user hands trm-edge (issue: reliability, second round)."""
    nan_model = TRM(model.config)
    nan_model.load_state_dict(model.state_dict())
    with torch.no_grad():
        next(nan_model.parameters()).fill_(float("nan"))
    nan_ckpt = root / "nan.pt"
    save_checkpoint(nan_ckpt, nan_model, sudoku.meta(4, 50), info={"data_spec": dataclasses.asdict(spec)})
    official_model = TRM(tiny_config(vocab_size=6, seq_len=16, ffn_multiple=256))   # the official SwiGLU width
    torch.save(to_official_state_dict(official_model.state_dict()), root / "official_ok")
    with torch.no_grad():
        next(official_model.parameters()).fill_(float("inf"))
    torch.save(to_official_state_dict(official_model.state_dict()), root / "official_nan")
    other = root / "other.pt"   # another model's shape: hidden 16
    save_checkpoint(other, TRM(tiny_config(vocab_size=6, seq_len=16, hidden_size=16, puzzle_emb_ndim=16)),
                    sudoku.meta(4, 50), info={"data_spec": dataclasses.asdict(spec)})
    other_run = root / "other_run"
    other_run.mkdir()
    (other_run / "checkpoint.pt").write_bytes(other.read_bytes())
    (other_run / "train_log.jsonl").write_text('{"step": 1}\n')
    noted = root / "noted"
    shutil.copytree(artifact, noted)
    (noted / "notes.txt").write_text("my notes\n")
    holds_ckpt = root / "holds_ckpt"
    shutil.copytree(artifact, holds_ckpt)
    shutil.copy(ckpt, holds_ckpt / "checkpoint.pt")
    assets = root / "assets"
    assets.mkdir()
    (assets / "model.pte").write_text("the app's own model\n")
    nine = root / "nine.csv"
    nine.write_text("source,question,answer,rating\n" + "".join(
        f"x,{sudoku.to_text(q)},{sudoku.to_text(a)},0\n" for q, a in sudoku.generate(3, 9, seed=1)))
    (root / "huge.csv").write_text("source,question,answer,rating\nx," + "." * 140_000 + ",1,0\n")
    (root / "latin1.csv").write_bytes(b"source,question,answer,rating\nx,\xff\xfe,1,0\n")
    q, a = sudoku.generate(1, 4, seed=5)[0]   # the answer column repeats the question, blanks and all
    (root / "wrong_answer.csv").write_text(f"source,question,answer,rating\nx,{sudoku.to_text(q)},{sudoku.to_text(q)},0\n")
    clash = a.copy()
    clash[0, 1] = clash[0, 0]   # the answer column repeats a digit in its first row
    (root / "clash_answer.csv").write_text(f"source,question,answer,rating\nx,{sudoku.to_text(q)},{sudoku.to_text(clash)},0\n")
    big_npy = root / "big_npy"
    (big_npy / "test").mkdir(parents=True)
    (big_npy / "test" / "dataset.json").write_text(json.dumps({"vocab_size": 6, "seq_len": 16}))
    for name in ("inputs", "labels", "puzzle_identifiers"):
        header = "{'descr': '<i8', 'fortran_order': False, 'shape': (8000000000000, 1000), }".ljust(117) + "\n"
        (big_npy / "test" / f"all__{name}.npy").write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                                                           + header.encode())
    arc = root / "arc"
    arc.mkdir()
    (arc / "task.json").write_text(json.dumps({"train": [{"input": 3, "output": [[1]]}], "test": []}))
    configs = _config_files(root, ckpt)
    return dict(
        **configs,
        nan_ckpt=nan_ckpt, official_ok=root / "official_ok", official_nan=root / "official_nan", other=other,
        other_run=other_run, noted=noted, holds_ckpt=holds_ckpt, assets=assets, nine=nine, huge=root / "huge.csv",
        latin1=root / "latin1.csv", wrong_answer=root / "wrong_answer.csv", clash_answer=root / "clash_answer.csv", big_npy=big_npy, arc=arc,
        list_state=_crafted(root / "list_state.pt", ckpt, lambda r: r.update(state_dict=[1, 2])),
        hidden0=_crafted(root / "hidden0.pt", ckpt, lambda r: r["model_config"].update(hidden_size=0)),
        cycles=_crafted(root / "cycles.pt", ckpt, lambda r: r["model_config"].update(H_cycles=10 ** 6)),
        many_puzzles=_crafted(root / "many.pt", ckpt, lambda r: r["info"]["data_spec"].update(test_puzzles=10 ** 12)),
        steps_1e9=_resealed(root / "steps_1e9", artifact, lambda m: m.update(halt_max_steps=10 ** 9)),
        init_list=_resealed(root / "init_list", artifact, lambda m: m.update(init_state=["x"])),
        files_list=_resealed(root / "files_list", artifact, lambda m: m.update(files=["model.onnx"])),
        garbage_model=_garbage_model(root / "garbage_model", artifact),
        net_onnx=_resealed(root / "net_onnx", artifact, lambda m: m.update(recursion="net")),
    )


def _garbage_model(folder: Path, source: Path) -> Path:
    """An artifact whose model file is garbage with its hash sealed again: only the runtime can tell."""
    from trm_edge.files import sha256_of

    shutil.copytree(source, folder)
    (folder / "model.onnx").write_bytes(b"\x08\x07this is not a protobuf model" * 10)
    digest = sha256_of(folder / "model.onnx")
    return _resealed(folder.with_name(folder.name + "_sealed"), folder,
                     lambda m: m["files"].update({"model.onnx": digest}))


BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))


def _config_files(root: Path, ckpt: Path) -> dict[str, Path]:
    """Config files with one wrong-typed or hostile value each (reliability, third round)."""
    bodies = {"bomb": "train:\n  " + BOMB.replace("\n", "\n  "), "ema_no": "train: {ema: 'no'}",
              "mlp_t_no": "arch: {mlp_t: 'no'}", "steps_float": "train: {steps: 1.5}",
              "seed_date": "data: {seed: 2026-01-01}", "hidden_float": "arch: {hidden_size: 64.0}",
              "lr_list": "train: {lr: [0.1]}", "path_int": "data: {path: 5}",
              "big_batch": "train: {batch_size: 100000000}",
              "off_halt": "arch: {halt_max_steps: 2.5}", "off_eps_nan": "arch: {rms_norm_eps: .nan}",
              "off_seq_list": "arch: {seq_len: [16]}", "off_arch_list": "arch: [1, 2]"}
    out = {}
    for name, body in bodies.items():
        out[name] = root / f"{name}.yaml"
        out[name].write_text(body + "\n")
    out["complex_ckpt"] = _crafted(root / "complex.pt", ckpt, lambda r: r["state_dict"].update(
        {k: v.to(torch.complex64) for k, v in list(r["state_dict"].items())[:1]}))
    out["maze7"] = MAZE7
    out["spec_1e7"] = _crafted(root / "spec_1e7.pt", ckpt, lambda r: r["info"]["data_spec"].update(test_puzzles=10 ** 7))
    return out


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
    # reliability, second round: files a user owns
    ("import-out-exists", "import-official {official_ok} --out {afile}", 2, "already exists", ["{afile}"]),
    ("import-out-is-input", "import-official {official_ok} --out {official_ok} --overwrite", 2, "own input",
     ["{official_ok}"]),
    ("train-resume-into-another-run", "train --steps 2 --resume {ckpt} --out {other_run}", 2, "already holds a run",
     ["{other_run}"]),
    ("export-overwrite-keeps-user-files", "export {ckpt} --target onnx --out {noted} --overwrite", 2,
     "not part of the artifact (notes.txt)", ["{noted}"]),
    ("export-overwrite-own-input", "export {holds_ckpt}/checkpoint.pt --target onnx --out {holds_ckpt} --overwrite",
     2, "is inside", ["{holds_ckpt}"]),
    ("export-android-assets-clash", "export {ckpt} --target executorch --android-assets {assets} --out {root}/e9", 2,
     "model.pte, which trm-edge did not write there", ["{assets}", "{root}/e9"]),
    ("export-android-assets-wrong-target", "export {ckpt} --target onnx --android-assets {root}/as2 --out {root}/e10",
     2, "android_demo runs", ["{root}/as2", "{root}/e10"]),
    ("export-path-not-utf8", "export {ckpt} --target onnx --out {root}/bad\udcffname", 2, "not a UTF-8 path", []),
    # non-finite weights
    ("train-lr-inf", "train --lr inf --out {root}/new", 2, "positive finite", ["{root}/new"]),
    ("import-nan", "import-official {official_nan} --out {root}/n.pt", 2, "NaN", ["{root}/n.pt"]),
    ("export-nan", "export {nan_ckpt} --target onnx --out {root}/e11", 2, "NaN", ["{root}/e11"]),
    ("evaluate-nan", "evaluate {nan_ckpt}", 2, "NaN", []),
    # unbounded or crafted values
    ("evaluate-cycles", "evaluate {cycles}", 2, "H_cycles must be between 1 and 64", []),
    ("evaluate-puzzles-1e12", "evaluate {many_puzzles}", 2, "test puzzles must be a whole number", []),
    ("evaluate-list-state", "evaluate {list_state}", 2, "state_dict is a list", []),
    ("evaluate-hidden-0", "evaluate {hidden0}", 2, "hidden_size must be between 1", []),
    ("solve-steps-1e9", "solve {steps_1e9} 1234............", 2, "halt_max_steps must be a whole number", []),
    ("solve-init-state-list", "solve {init_list} 1234............", 2, "init_state must be a mapping", []),
    ("solve-files-list", "solve {files_list} 1234............", 2, "files must be a mapping", []),
    ("solve-garbage-model-file", "solve {garbage_model} 1234............", 2, "cannot be loaded by onnx's runtime", []),
    ("solve-metadata-mode-the-target-lacks", "solve {net_onnx} 1234............", 2, "onnx artifacts never have", []),
    ("solve-threads-1000", "solve {ckpt} 1234............ --threads 1000", 2, "more than the", []),
    ("bench-threads-1000", "bench {artifact} --threads 1 --threads 1000 --out {root}/b", 2, "more than the", ["{root}/b"]),
    ("bench-other-checkpoint", "bench {artifact} --checkpoint {other} --threads 1 --out {root}/b", 2,
     "was not exported from a model like", ["{root}/b"]),
    # data files
    ("evaluate-9x9-on-4x4", "evaluate {ckpt} --data-path {nine}", 2, "trained on 4x4 grids", []),
    ("evaluate-huge-csv-field", "evaluate {ckpt} --data-path {huge}", 2, "huge.csv: not a readable CSV", []),
    ("evaluate-not-utf8", "evaluate {ckpt} --data-path {latin1}", 2, "latin1.csv: not UTF-8", []),
    ("evaluate-npy-58-tib", "evaluate {ckpt} --data-path {big_npy}", 2, "not a readable .npy", []),
    ("train-arc-pair-int", "train --task arc --data-path {arc} --out {root}/a", 2, "train pair 1", ["{root}/a"]),
    ("solve-superscript-digit", "solve {ckpt} 1\u00b234............", 2, "are not cells of a 4x4 sudoku", []),
    ("solve-fullwidth-digits", "solve {ckpt} \uff11\uff12\uff13\uff14............", 2, "are not cells", []),
    ("solve-file-wrong-answer", "solve {ckpt} --file {wrong_answer}", 2, "not a solution of the puzzle", []),
    ("solve-file-answer-with-a-clash", "solve {ckpt} --file {clash_answer}", 2,
     "the answer column is not a solution of the puzzle (row 1 has two", []),
    # reliability, third round: files read with a schema and bounds
    ("train-config-anchor-bomb", "train --config {bomb} --out {root}/new", 2, "YAML aliases", ["{root}/new"]),
    ("train-config-dev-zero", "train --config /dev/zero --out {root}/new", 2, "not a regular file", ["{root}/new"]),
    ("train-config-ema-string", "train --config {ema_no} --out {root}/new", 2, "ema must be true or false",
     ["{root}/new"]),
    ("train-config-mlp-t-string", "train --config {mlp_t_no} --out {root}/new", 2, "mlp_t must be true or false",
     ["{root}/new"]),
    ("train-config-steps-float", "train --config {steps_float} --out {root}/new", 2, "steps must be a whole number",
     ["{root}/new"]),
    ("train-config-seed-date", "train --config {seed_date} --out {root}/new", 2, "data: seed must be a whole number",
     ["{root}/new"]),
    ("train-config-hidden-float", "train --config {hidden_float} --out {root}/new", 2,
     "hidden_size must be a whole number", ["{root}/new"]),
    ("train-config-lr-list", "train --config {lr_list} --out {root}/new", 2, "lr must be a finite number",
     ["{root}/new"]),
    ("train-config-path-int", "train --config {path_int} --out {root}/new", 2, "path must be text or null",
     ["{root}/new"]),
    ("train-config-huge-batch", "train --config {big_batch} --out {root}/new", 2, "--batch-size must be a whole",
     ["{root}/new"]),
    ("train-seed-negative", "train --seed -1 --out {root}/new", 2, "--seed must be a whole number", ["{root}/new"]),
    ("import-official-halt-float", "import-official {official_ok} --official-config {off_halt} --out {root}/o.pt", 2,
     "halt_max_steps must be a whole number", ["{root}/o.pt"]),
    ("import-official-eps-nan", "import-official {official_ok} --official-config {off_eps_nan} --out {root}/o.pt", 2,
     "rms_norm_eps must be a finite number", ["{root}/o.pt"]),
    ("import-official-seq-list", "import-official {official_ok} --official-config {off_seq_list} --out {root}/o.pt",
     2, "seq_len must be a whole number", ["{root}/o.pt"]),
    ("import-official-arch-list", "import-official {official_ok} --official-config {off_arch_list} --out "
     "{root}/o.pt", 2, "arch must be a mapping", ["{root}/o.pt"]),
    ("evaluate-official-config-dev-zero", "evaluate {official_ok} --official-config /dev/zero", 2,
     "not a regular file", []),
    ("evaluate-complex-weights", "evaluate {complex_ckpt}", 2, "complex numbers", []),
    ("solve-maze-without-start", "solve {maze7} " + "#" * 49, 2, "exactly one start S", []),
    ("solve-halting-superscript", "solve {ckpt} 1234............ --halting stable-\u00b2", 2, "halting must be", []),
    ("web-port-out-of-range", "web {artifact} --out {root}/site --serve --port 70000", 2, "--port must be between",
     ["{root}/site"]),
    # the work budget
    ("solve-over-the-work-budget", "solve {ckpt} 1234............ --h-cycles 64 --l-cycles 64 --max-steps 1024", 2,
     "more than the work budget", []),
    ("export-graph-over-the-work-budget", "export {ckpt} --target onnx --h-cycles 64 --l-cycles 64 --out {root}/e12",
     2, "unrolls 4,160 net calls", ["{root}/e12"]),
    ("train-model-over-the-work-budget", "train --task maze --grid-size 100 --out {root}/m100", 2,
     "800,757,826 parameters", ["{root}/m100"]),
    ("evaluate-generates-ten-million", "evaluate {spec_1e7} --puzzles 5", 2, "asks to generate 10,000,000", []),
    ("work-budget-not-positive", "--work-budget 0 solve {ckpt} 1234............", 2, "--work-budget must be", []),
    ("bench-cuda-without-a-gpu", "bench {artifact} --threads 1 --device cuda --out {root}/b", 2,
     "this machine has no CUDA device", ["{root}/b"]),
    ("export-precision-the-target-lacks", "export {ckpt} --target tflite --quantize fp16 --out {root}/e13", 2,
     "it offers fp32, int8", ["{root}/e13"]),
    ("bench-data-path-missing", "bench {artifact} --threads 1 --data-path {root}/missing.csv --out {root}/b", 2,
     "no such file", ["{root}/b"]),
    ("bench-data-path-other-size", "bench {artifact} --threads 1 --data-path {nine} --out {root}/b", 2,
     "trained on 4x4 grids", ["{root}/b"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_line_and_changes_nothing(world, case):
    _, argv, code, phrase, keep = case
    if "--device cuda" in argv and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
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


def test_the_work_budget_can_be_raised_for_one_command(world):
    argv = ["solve", str(world["ckpt"]), "1234............", "--h-cycles", "16", "--l-cycles", "7", "--max-steps",
            "1024", "--halting", "stable-1", "--json"]   # 1,024 x 16 x 8 = 131,072 net calls at most
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 2 and "--work-budget 2" in res.output, res.output
    res = CliRunner().invoke(app, ["--work-budget", "2", *argv])
    assert res.exit_code in (0, 1) and json.loads(res.stdout)["steps"] <= 1024, res.output


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


def test_an_artifact_is_hashed_once_per_process_until_a_file_changes(world, tmp_path, monkeypatch):
    """Loading the same artifact again (a bench job does it for every row) does not hash it again; a file
    rewritten in place with its size and modification time put back is still caught."""
    import os

    from trm_edge import artifact

    folder = tmp_path / "copy"
    shutil.copytree(world["artifact"], folder)
    hashed = []
    real = artifact.sha256_of
    monkeypatch.setattr(artifact, "sha256_of", lambda p: hashed.append(p) or real(p))
    verify(folder)
    first = len(hashed)
    assert first > 0
    verify(folder)
    load_runner(folder)
    assert len(hashed) == first
    model = folder / "model.onnx"
    before = model.stat()
    data = bytearray(model.read_bytes())
    data[-1] ^= 1
    model.write_bytes(bytes(data))
    os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ArtifactIntegrityError, match="model.onnx does not match"):
        verify(folder)


def test_overwrite_cleans_killed_exports_but_not_a_users_look_alike(world, tmp_path):
    """Leftovers of a killed export carry trm-edge's marker and are removed; a user's folder that only has the
    same name pattern is left alone, even for a new destination without --overwrite."""
    from trm_edge.ownership import FolderKind, Marker, write_marker

    out = tmp_path / "art"
    export_checkpoint(world["ckpt"], "onnx", out, parity_puzzles=0)
    stale = tmp_path / ".art.partial-killed"
    stale.mkdir()
    write_marker(stale, Marker(FolderKind.STAGING))
    (stale / "model.onnx").write_bytes(b"half")
    mine = tmp_path / ".art.partial-mine"
    mine.mkdir()
    (mine / "draft.txt").write_text("x\n")
    new_mine = tmp_path / ".newart.old-mine"
    new_mine.mkdir()
    (new_mine / "draft.txt").write_text("y\n")
    export_checkpoint(world["ckpt"], "onnx", out, parity_puzzles=0, overwrite=True)
    export_checkpoint(world["ckpt"], "onnx", tmp_path / "newart", parity_puzzles=0)
    verify(out)
    assert not stale.exists()
    assert (mine / "draft.txt").read_text() == "x\n" and (new_mine / "draft.txt").read_text() == "y\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".art.partial-mine", ".newart.old-mine", "art", "newart"]


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
    from trm_edge.datasets.formats import write_csv
    from trm_edge.datasets.splits import load_splits

    pairs = sudoku.generate(30, 4, seed=3)
    write_csv(sudoku.to_puzzle_set(pairs), tmp_path / "all.csv")
    train, test = load_splits(DataSpec(task="sudoku", path=str(tmp_path / "all.csv")))
    assert (len(train), len(test)) == (27, 3)
    assert not {r.tobytes() for r in train.inputs} & {r.tobytes() for r in test.inputs}


def test_kill_between_renames_keeps_the_old_artifact(world, tmp_path, monkeypatch):
    """A kill after the old artifact was renamed aside and before the new one was renamed in: the next export
    to that name puts the old one back instead of deleting it."""
    from tests.conftest import killed_between_renames

    out = tmp_path / "art"
    export_checkpoint(world["ckpt"], "onnx", out, parity_puzzles=2)
    before = _snapshot([out])
    with killed_between_renames(monkeypatch), pytest.raises(KeyboardInterrupt):
        export_checkpoint(world["ckpt"], "onnx", out, parity_puzzles=2, overwrite=True)
    assert not out.exists()   # the state a kill leaves: the old artifact only under .art.old-*
    result = CliRunner().invoke(app, ["export", str(world["ckpt"]), "--target", "onnx", "--out", str(out)])
    assert result.exit_code == 2 and "restored" in result.output and "already exists" in result.output, result.output
    assert {Path(k).relative_to(out).as_posix(): v for k, v in _snapshot([out]).items() if k != str(out)} == \
        {Path(k).relative_to(out).as_posix(): v for k, v in before.items() if k != str(out)}
    verify(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_overwrite_from_inside_the_folder_is_refused_before_work(world, tmp_path, monkeypatch):
    out = tmp_path / "art"
    shutil.copytree(world["artifact"], out)
    monkeypatch.chdir(out)
    result = CliRunner().invoke(app, ["export", str(world["ckpt"]), "--target", "onnx", "--out", ".", "--overwrite"])
    assert result.exit_code == 2 and "working directory" in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_training_that_diverges_stops_and_keeps_the_last_good_checkpoint(world, tmp_path, monkeypatch):
    from trm_edge.train import trainer

    real_loss, calls = trainer.act_loss, [0]

    def loss_goes_nan(*args, **kwargs):
        loss, stats = real_loss(*args, **kwargs)
        calls[0] += 1
        return (loss * float("nan") if calls[0] > 2 else loss), stats

    monkeypatch.setattr(trainer, "act_loss", loss_goes_nan)
    run = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--steps", "6", "--eval-every", "2", "--eval-puzzles", "8",
                                      "--batch-size", "8", "--device", "cpu", "--quiet", "--out", str(run)])
    assert result.exit_code == 2, result.output
    assert "diverged by step 4" in result.output and "from step 2" in result.output, result.output
    from trm_edge.model.checkpoint import load_checkpoint

    ckpt = load_checkpoint(run / "checkpoint.pt")   # finite weights: the loader refuses NaN
    assert ckpt.info["step"] == 2
    assert [json.loads(line)["step"] for line in (run / "train_log.jsonl").read_text().splitlines()] == [2]


def test_interrupt_during_first_evaluation_keeps_the_old_log(world, tmp_path, monkeypatch):
    from trm_edge.train import trainer

    run = tmp_path / "run"
    shutil.copytree(world["ckpt"].parent, run)
    monkeypatch.setattr(trainer, "evaluate", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    before = _snapshot([run])
    result = CliRunner().invoke(app, ["train", "--steps", "2", "--eval-every", "1", "--batch-size", "4",
                                      "--device", "cpu", "--quiet", "--out", str(run), "--overwrite"])
    assert result.exit_code == 130 and "still the earlier one" in result.output, result.output
    assert _snapshot([run]) == before


def test_non_finite_outputs_fail_parity(world):
    from trm_edge.export.parity import compare
    from trm_edge.host_loop import SolveResult

    data = sudoku.to_puzzle_set(sudoku.generate(4, 4, seed=0))
    logits = np.full((4, 16, 6), np.nan, dtype=np.float32)
    nan = SolveResult(np.zeros((4, 16), np.int64), np.full(4, 8), logits, np.full(4, np.nan, np.float32))
    verdict = compare(nan, nan, data, "none")
    assert verdict["cell_agreement"] == 1.0   # what NaN made of the other figures
    assert not verdict["within_budget"] and "NaN" in verdict["reason"]


def test_bench_outputs_are_replaced_whole(tmp_path, monkeypatch):
    from trm_edge.bench import report

    result = {"rows": [], "measured_peak_gflops": {}, "phone_estimates": []}
    report.write_outputs(result, tmp_path)
    before = _snapshot([tmp_path])

    def disk_full(_result, path):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "plot", disk_full)
    with pytest.raises(OSError):
        report.write_outputs(result, tmp_path)
    assert _snapshot([tmp_path / "bench.png"]) == {k: v for k, v in before.items() if k.endswith("bench.png")}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.json", "bench.png", "bench.txt"]


def test_android_assets_replace_only_what_an_earlier_copy_wrote(world, tmp_path):
    from trm_edge.export.android import check_assets_folder

    assets = tmp_path / "assets"
    shutil.copytree(world["artifact"], assets)    # an earlier copy: its listed files may be replaced
    (assets / "font.ttf").write_text("the app's own file\n")
    check_assets_folder(assets, ["model.onnx", "metadata.json", "init_state.f32", "samples.txt"])
    (assets / "model.pte").write_text("the app's own model\n")
    with pytest.raises(FileExistsError, match="model.pte"):
        check_assets_folder(assets, ["model.pte", "metadata.json"])


def test_solve_exit_code_is_the_same_in_json_mode(world):
    puzzle = "1234............"   # an untrained model does not solve it
    text = CliRunner().invoke(app, ["solve", str(world["ckpt"]), puzzle])
    as_json = CliRunner().invoke(app, ["solve", str(world["ckpt"]), puzzle, "--json"])
    assert text.exit_code == as_json.exit_code == 1, (text.output, as_json.output)
    assert json.loads(as_json.stdout)["valid"] is False


def test_csv_with_a_byte_order_mark_reads(world, tmp_path):
    rows = "".join(f"x,{sudoku.to_text(q)},{sudoku.to_text(a)},0\n" for q, a in sudoku.generate(5, 4, seed=2))
    path = tmp_path / "bom.csv"
    path.write_text("source,question,answer,rating\n" + rows, encoding="utf-8-sig")
    result = CliRunner().invoke(app, ["evaluate", str(world["ckpt"]), "--data-path", str(path), "--device", "cpu",
                                       "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["puzzles"] == 5


BLOCK_TORCH = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'executorch', 'coremltools', 'numba'):
            raise ModuleNotFoundError('No module named ' + repr(name), name=name)
sys.meta_path.insert(0, Block())
from trm_edge.cli import main
sys.argv[0] = 'trm-edge'
main()
"""


@pytest.mark.parametrize("argv", ["train --steps 1 --out {root}/lean", "export {ckpt} --target onnx --out {root}/lean",
                                  "evaluate {ckpt}", "import-official {official_ok} --out {root}/lean.pt",
                                  "bench {artifact} --threads 1 --out {root}/lean"])
def test_torch_free_install_says_which_extra(world, argv):
    import subprocess
    import sys

    fill = {k: str(v) for k, v in world.items()}
    proc = subprocess.run([sys.executable, "-c", BLOCK_TORCH, *argv.format(**fill).split()], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: this command needs torch, which comes with the [train] extra: pip install 'trm-edge[train]' "
        "(the torch-free install solves exported artifacts)"]
    assert not (world["root"] / "lean").exists() and not (world["root"] / "lean.pt").exists()


@pytest.mark.parametrize("argv", ["export --list-targets", "train --list-presets"])
def test_torch_free_install_lists_targets_and_presets(argv):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", BLOCK_TORCH, *argv.split()], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "onnx" in proc.stdout + ("onnx" if "presets" in argv else ""), proc.stderr
    assert not proc.stderr


def test_an_interrupted_first_run_leaves_no_empty_folder(tmp_path, monkeypatch):
    from trm_edge.train import trainer

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer.BatchSampler, "next", interrupted)
    result = CliRunner().invoke(app, ["train", "--steps", "3", "--out", str(tmp_path / "fresh")])
    assert result.exit_code == 130, result.output
    assert not (tmp_path / "fresh").exists()


def test_a_full_disk_while_writing_a_checkpoint_says_so(world, tmp_path, monkeypatch):
    """torch reports a full disk as "[enforce fail at inline_container.cc:672] unexpected pos": one line in words,
    nothing half-written."""
    from trm_edge.model import checkpoint

    def full(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 1216 vs 1104")

    monkeypatch.setattr(checkpoint.torch, "save", full)
    result = CliRunner().invoke(app, ["import-official", str(world["official_ok"]), "--out", str(tmp_path / "o.pt")])
    assert result.exit_code == 2 and "no space left on the device" in result.output, result.output
    assert list(tmp_path.iterdir()) == []
