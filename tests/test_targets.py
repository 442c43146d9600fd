"""The target registry: one declaration per target feeds the exporter, the runtime, the bench and the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from trm_edge import targets
from trm_edge.cli import app
from trm_edge.export import ExportError, export_checkpoint
from trm_edge.export.spec import ExportResult
from trm_edge.runtime.artifacts import load_runner
from trm_edge.targets import Option, Target

# A whole new target in one place: a "format" that stores the step graph's weights with numpy and a
# runtime that runs them through the PyTorch step (what an OpenVINO or QNN module would do with its own tools).


def fake_export(req, folder):
    import torch

    torch.save(req.graph.model.state_dict(), folder / "model.fake")
    (folder / "config.json").write_text(json.dumps(req.graph.model.config.to_dict()))
    return ExportResult("model.fake", [f"fake target, shout={req.options.get('shout')}"], {"fake": "1.0"})


def fake_runtime(r):
    import torch

    from trm_edge.model import TRM, TRMConfig

    model = TRM(TRMConfig.from_dict(json.loads((r.folder / "config.json").read_text())))
    model.load_state_dict(torch.load(r.folder / r.meta.model_file, weights_only=True))
    model.eval()

    def call(arrays, state=None):
        with torch.no_grad():
            outs = model.infer_step(*[torch.as_tensor(np.asarray(a)) for a in arrays])
        return [o.numpy() for o in outs]

    return call


FAKE = Target(name="fake", model_file="model.fake", modes=("step",), precisions=("none",), note="a test target",
              runtime=fake_runtime, runtime_module="numpy", options=(Option("shout", "say it loudly"),))


@pytest.fixture
def fake_target():
    from trm_edge.export.exporters import register_exporter

    targets.register(FAKE)
    register_exporter("fake", fake_export)
    yield FAKE
    targets._REGISTRY.pop("fake", None)


def test_a_new_target_is_a_declaration_and_its_exporter(fake_target, trained_checkpoint, tmp_path):
    folder = export_checkpoint(trained_checkpoint, "fake", tmp_path / "f", parity_puzzles=20,
                               options={"shout": True})
    parity = json.loads((folder / "parity.json").read_text())
    assert parity["status"] == "ok" and parity["cell_agreement"] == 1.0     # the runtime ran it, via the registry
    assert "shout=True" in " ".join(load_runner(folder).meta.extra["notes"])
    with pytest.raises(ExportError, match="fake supports --recursion step, not unrolled"):
        export_checkpoint(trained_checkpoint, "fake", tmp_path / "g", recursion="unrolled")
    with pytest.raises(ExportError, match="--shout does not apply to --target onnx"):
        export_checkpoint(trained_checkpoint, "onnx", tmp_path / "g", options={"shout": True})
    listing = CliRunner().invoke(app, ["export", "--list-targets"]).output
    assert "fake" in listing and "--shout" in listing


def test_every_declared_target_has_an_exporter_and_a_runtime():
    from trm_edge.export.exporters import exporter_for

    for t in targets.all_targets().values():
        assert callable(exporter_for(t.name)) and callable(t.runtime), t.name
        assert set(t.precisions) <= set(targets.PRECISIONS) and set(t.modes) <= set(targets.RECURSION_MODES)


def test_a_registered_target_is_a_choice_of_the_cli(fake_target):
    """The CLI's choice lists come from the registries: a target registered before the CLI is built is offered
    in --help and accepted, like the built-in ones."""
    try:
        fresh = _rebuild_cli()
        assert "fake" in [t.value for t in fresh.TargetName]
        assert "'fake'" in CliRunner().invoke(fresh.app, ["export", "x.pt", "--target", "caffe"]).output
    finally:
        targets._REGISTRY.pop("fake", None)
        _rebuild_cli()


def _rebuild_cli():
    """The CLI built again, as a fresh process builds it: its shared module, each command module, the package."""
    import importlib

    import trm_edge.cli as cli
    from trm_edge.cli import common

    importlib.reload(common)
    for module in cli.COMMAND_MODULES:
        importlib.reload(module)
    return importlib.reload(cli)
