"""Malicious or unsupported bundles are refused, naming the key and value, and nothing in them runs:
each payload would create a marker file, and no marker is ever created."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from radview.ai.bundle_config import BundleRefused
from radview.ai.bundle_import import import_bundle
from tests.ai.bundle_factory import segmentation_bundle


@pytest.fixture(scope="module")
def clean_bundle(tmp_path_factory) -> Path:
    return segmentation_bundle(tmp_path_factory.mktemp("clean") / "bundle")


@pytest.fixture
def bundle(clean_bundle, tmp_path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(clean_bundle, copy)
    return copy


def _edit(bundle: Path, change) -> None:
    path = bundle / "configs" / "inference.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def _refused(bundle: Path, tmp_path: Path, match: str) -> BundleRefused:
    destination = tmp_path / "imported"
    with pytest.raises(BundleRefused, match=match) as caught:
        import_bundle(bundle, destination)
    assert not destination.exists() or not any(destination.iterdir())  # nothing half-imported is left
    return caught.value


def _marker(tmp_path: Path) -> Path:
    return tmp_path / "PAYLOAD_RAN"


def test_target_of_os_system_is_refused(bundle, tmp_path):
    marker = _marker(tmp_path)
    _edit(bundle, lambda c: c.update(network_def={"_target_": "os.system", "command": f"touch {marker}"}))
    error = _refused(bundle, tmp_path, "os.system")
    assert "network_def._target_" in str(error) and "allow-list" in str(error)
    assert not marker.exists()


def test_target_of_a_callable_in_the_transforms_is_refused(bundle, tmp_path):
    marker = _marker(tmp_path)
    _edit(bundle, lambda c: c["preprocessing"]["transforms"].insert(
        2, {"_target_": "monai.transforms.Lambdad", "keys": "image", "func": f"$lambda x: open('{marker}', 'w')"}))
    error = _refused(bundle, tmp_path, "preprocessing")
    assert "transforms[2]" in str(error)
    assert not marker.exists()


@pytest.mark.parametrize("expression", [
    "$__import__('os').system('touch {marker}') or 3",
    "$exec(\"open('{marker}', 'w')\")",
    "$(lambda: open('{marker}', 'w'))()",
    "$@spatial_dims.__class__.__base__",
])
def test_dollar_expression_is_refused(bundle, tmp_path, expression):
    marker = _marker(tmp_path)
    _edit(bundle, lambda c: c.update(spatial_dims=3) or c["network_def"].update(
        spatial_dims=expression.format(marker=marker)))
    error = _refused(bundle, tmp_path, "network_def")
    assert "spatial_dims" in str(error)
    assert not marker.exists()


def test_payloads_in_entries_radview_never_reads_do_not_run(bundle, tmp_path):
    marker = _marker(tmp_path)
    _edit(bundle, lambda c: c.update(initialize=[f"$__import__('os').system('touch {marker}')"]))
    result = import_bundle(bundle, tmp_path / "imported")
    assert "initialize" in result.card.raw["bundle"]["source"]["not_read"]
    assert not marker.exists()


class _Payload:
    """What a malicious model.pt holds: unpickling it would call os.system."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_with_a_reduce_payload_is_refused(bundle, tmp_path):
    import torch

    marker = _marker(tmp_path)
    state = torch.load(bundle / "models" / "model.pt", weights_only=True)
    torch.save({**state, "extra": _Payload(marker)}, bundle / "models" / "model.pt")
    error = _refused(bundle, tmp_path, "models/model.pt")
    assert "posix.system" in str(error) or "os.system" in str(error)
    assert not marker.exists()


def test_torchscript_is_refused(bundle, tmp_path):
    import torch

    scripted = torch.jit.script(torch.nn.Linear(2, 2))
    (bundle / "models" / "model.pt").unlink()
    torch.jit.save(scripted, str(bundle / "models" / "model.ts"))
    _refused(bundle, tmp_path, "TorchScript")
    torch.jit.save(scripted, str(bundle / "models" / "model.pt"))  # a TorchScript archive named model.pt
    _refused(bundle, tmp_path, "TorchScript")


def test_network_off_the_allow_list_is_refused(bundle, tmp_path):
    _edit(bundle, lambda c: c.update(network_def={"_target_": "monai.networks.nets.ViTAutoEnc", "in_channels": 1,
                                                  "img_size": [16, 16, 8], "patch_size": [4, 4, 4]}))
    _refused(bundle, tmp_path, "ViTAutoEnc.*allow-list")


def test_unknown_network_argument_and_downloads_are_refused(bundle, tmp_path):
    _edit(bundle, lambda c: c["network_def"].update(pretrained=True))
    _refused(bundle, tmp_path, "network_def.pretrained")


@pytest.mark.parametrize("path", ["$@bundle_root + '/../outside.pt'", "/etc/passwd"])
def test_config_path_outside_the_bundle_is_refused(bundle, tmp_path, path):
    shutil.copy(bundle / "models" / "model.pt", tmp_path / "outside.pt")
    _edit(bundle, lambda c: c.update(ckpt_path=path))
    error = _refused(bundle, tmp_path, "outside the bundle")
    assert "ckpt_path" in str(error)


def test_weights_linked_from_outside_the_bundle_are_refused(bundle, tmp_path):
    outside = tmp_path / "elsewhere.pt"
    shutil.move(bundle / "models" / "model.pt", outside)
    (bundle / "models" / "model.pt").symlink_to(outside)
    _refused(bundle, tmp_path, "outside the bundle")


def test_multi_channel_and_classification_bundles_are_refused_with_a_reason(bundle, tmp_path):
    _edit(bundle, lambda c: c["network_def"].update(in_channels=4))
    _refused(bundle, tmp_path, "4 input channels")
    _edit(bundle, lambda c: c.update(network_def={"_target_": "DenseNet121", "spatial_dims": 3, "in_channels": 1,
                                                  "out_channels": 2}))
    _refused(bundle, tmp_path, "classification")


def test_weights_that_do_not_fit_the_network_are_refused(bundle, tmp_path):
    _edit(bundle, lambda c: c["network_def"].update(channels=[8, 16]))
    _refused(bundle, tmp_path, "do not fit")
