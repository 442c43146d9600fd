"""Recursion modes are objects: the runtime asks an artifact's mode how to drive it, so a new mode is one
module, and what a mode cannot do is refused in one line before anything runs."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from trm_edge import recursion, targets
from trm_edge.artifact import read_meta, write_meta
from trm_edge.datasets import load_split
from trm_edge.datasets.splits import spec_for
from trm_edge.export import export_checkpoint
from trm_edge.model.checkpoint import load_checkpoint
from trm_edge.recursion.step import StepMode
from trm_edge.runtime.artifacts import load_runner


@pytest.fixture(scope="module")
def step_artifact(trained_checkpoint, tmp_path_factory):
    return export_checkpoint(trained_checkpoint, "onnx", tmp_path_factory.mktemp("rec") / "step", parity_puzzles=0)


@pytest.fixture(scope="module")
def puzzles(trained_checkpoint):
    ck = load_checkpoint(trained_checkpoint)
    return load_split(spec_for(ck.info["data_spec"], None, None), "test").subset(slice(0, 12))


class CountingStep(StepMode):
    """A made-up mode: the step mode, counting the supervision steps it drives."""

    name = "counting-step"
    help = "test only"

    def __init__(self) -> None:
        self.calls = 0

    def step(self, runner, inputs, ids, y, z):
        self.calls += 1
        return super().step(runner, inputs, ids, y, z)


def test_every_targets_mode_is_a_registered_mode_and_a_cli_choice():
    from trm_edge.cli import RecursionMode

    assert {m.value for m in RecursionMode} == set(recursion.mode_names())
    for t in targets.all_targets().values():
        for name in t.modes:
            assert recursion.mode(name).name == name


def test_the_runner_drives_an_artifact_by_its_mode(step_artifact, puzzles, tmp_path):
    """An artifact naming a mode registered from outside runs through that mode's driver, with the same answers."""
    mode = recursion.register_mode(CountingStep())
    copy = tmp_path / "counting"
    shutil.copytree(step_artifact, copy)
    meta = read_meta(copy)
    meta.recursion = mode.name
    write_meta(copy, meta)
    ours = load_runner(copy).solve(puzzles.inputs, puzzles.puzzle_identifiers, halting="fixed")
    plain = load_runner(step_artifact).solve(puzzles.inputs, puzzles.puzzle_identifiers, halting="fixed")
    assert np.array_equal(ours.predictions, plain.predictions)
    assert mode.calls == meta.halt_max_steps * -(-len(puzzles) // meta.batch)


def test_a_mode_refuses_what_its_graph_cannot_do_in_one_line(step_artifact, puzzles, tmp_path):
    unknown = tmp_path / "unknown"
    shutil.copytree(step_artifact, unknown)
    meta = read_meta(unknown)
    meta.recursion = "spiral"
    write_meta(unknown, meta)
    with pytest.raises(ValueError, match="unknown recursion mode 'spiral'; choose one of: step, unrolled"):
        load_runner(unknown)
    loop = recursion.mode("loop")
    from trm_edge.host_loop import Halting
    with pytest.raises(ValueError, match="halts inside its graph"):
        loop.check(Halting.parse("fixed"), 16, 16)
    with pytest.raises(ValueError, match="runs the 16 steps baked into its graph"):
        recursion.mode("unrolled").check(Halting.parse("act"), 32, 16)
    with pytest.raises(ValueError, match="stable-2 halting cannot be applied"):
        recursion.mode("unrolled").check(Halting.parse("stable-2"), 16, 16)
    with pytest.raises(ValueError, match="valid halting cannot be applied"):
        recursion.mode("unrolled").check(Halting.parse("valid"), 16, 16)
    recursion.mode("step").check(Halting.parse("stable-2"), 64, 16)   # the host loop takes any rule and depth


def test_a_net_programs_metadata_is_typed_and_reads_back_as_written(trained_checkpoint, tmp_path):
    """The net mode owns its metadata (NetProgram): the exporter writes it, the runtime reads the methods from
    it, and the JSON keeps the keys the Android and web readers parse (extra.methods, extra.net_use)."""
    import json

    from trm_edge.recursion.net import NetProgram

    art = export_checkpoint(trained_checkpoint, "executorch", tmp_path / "net", recursion="net", parity_puzzles=0)
    extra = json.loads((art / "metadata.json").read_text())["extra"]
    program = NetProgram.from_extra(extra)
    assert list(program.methods) == ["embed", "net", "heads"] and "H_cycles times" in extra["net_use"]
    ins, outs = program.methods["net"]
    assert [t.name for t in ins] == ["hidden", "injection"] and [t.name for t in outs] == ["hidden_out"]
    assert program.to_extra() == {k: extra[k] for k in ("methods", "net_use")}
    assert load_runner(art).mode.net_methods
    with pytest.raises(ValueError, match="names no methods"):
        NetProgram.from_extra({})


def test_a_stateful_models_states_are_typed_and_read_back_as_written():
    """The stateful mode's metadata (ModelStates) keeps the keys the apps read: extra.states and stateful_use."""
    from trm_edge.artifact import TensorSpec
    from trm_edge.recursion.stateful import ModelStates

    states = ModelStates([TensorSpec("y_state", [1, 17, 64], "float16"), TensorSpec("z_state", [1, 17, 64], "float16")])
    extra = states.to_extra()
    assert [s["name"] for s in extra["states"]] == ["y_state", "z_state"] and "reset=1" in extra["stateful_use"]
    assert ModelStates.from_extra(extra) == states
    assert recursion.mode("stateful").state_in_graph and not recursion.mode("step").state_in_graph
