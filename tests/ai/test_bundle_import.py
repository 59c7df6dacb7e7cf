"""`radview models import`: zoo-layout bundles with small random weights import, run and give
findings; the card says what the publisher claims and that no input check exists."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from radview.ai.bundle_import import import_bundle
from radview.ai.card import CardError, load_card
from radview.ai.engine import check_input, run_model
from radview.ai.registry import check_package, find_models
from radview.core.findings import FindingKind
from tests.ai.bundle_factory import detection_bundle, radview_volume, segmentation_bundle


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict:
    """Both bundles, imported once into a private models folder."""
    root = tmp_path_factory.mktemp("bundles")
    destination = root / "imported"
    segmentation = import_bundle(segmentation_bundle(root / "spleen_ct_segmentation"), destination)
    detection = import_bundle(detection_bundle(root / "lung_nodule_ct_detection"), destination, card_id="lung-nodules")
    return {"segmentation": segmentation, "detection": detection, "destination": destination}


def test_segmentation_bundle_becomes_a_checked_package(imported):
    result = imported["segmentation"]
    card = check_package(result.folder)  # the registry's own checks, as at start-up
    assert card.id == "Spleen-CT-segmentation" and card.version == "0.5.2" and card.task == "segmentation"
    assert sorted(p.name for p in result.folder.iterdir()) == ["model.json", "weights.safetensors"]  # no pickle kept
    assert card.architecture_args["class"] == "UNet"
    assert [(o.value, o.name, o.code[1]) for o in card.outputs] == [(1, "spleen", "SCT")]  # pydicom's SNOMED code
    assert card.modalities == ["CT"] and card.raw["applies_to"]["pixel_spacing_mm"] == [0.375, 6.0]
    claim = card.metrics["publisher_claim"]
    assert claim["values"] == {"mean_dice": 0.961} and "not measured by RadView" in claim["note"]
    assert card.metrics["headline"] == {}  # nothing measured here yet
    assert not card.has_input_check and "no input check" in card.conformance["reason"]
    source = card.raw["bundle"]["source"]
    assert source["authors"] == "MONAI team" and set(source["files_sha256"]) == {
        "configs/metadata.json", "configs/inference.json", "models/model.pt"}
    assert "initialize" in source["not_read"] and "network" in source["not_read"]
    assert [s["transform"] for s in card.raw["bundle"]["preprocessing"]] == ["Orientation", "Spacing", "ScaleIntensityRange"]
    assert card.raw["bundle"]["inferer"] == {"kind": "sliding_window", "roi_size": [16, 16, 8], "sw_batch_size": 2,
                                             "overlap": 0.25}


def test_segmentation_bundle_runs_like_a_shipped_model(imported):
    card = imported["segmentation"].card
    volume = radview_volume()
    progress = []
    result = run_model(card, volume, "cpu", progress=lambda p: progress.append(p))
    assert result.labels.shape == volume.shape  # back on the series' own grid
    assert len(result.findings) == 1 and progress  # one segment, and progress reported per window
    finding = result.findings[0]
    assert finding.model_id == card.id and finding.kind is FindingKind.LESION_VOLUME
    assert finding.finding_type.meaning == "Spleen" and 0 < finding.confidence <= 1
    assert finding.measurements["volume_ml"] == pytest.approx(np.prod(volume.shape) * 1.5 * 1.5 * 2.0 / 1000, rel=0.01)
    assert result.conformance.passed and result.conformance.score is None  # nothing withheld, nothing faked
    assert "no input check" in result.conformance.reason
    assert "no input check" in check_input(card, volume).reason


def test_detection_bundle_gives_nodule_findings(imported):
    card = imported["detection"].card
    assert card.task == "detection" and card.architecture_args["class"] == "RetinaNet"
    backbone = card.architecture_args["args"]["feature_extractor"]["args"]["backbone"]
    assert backbone["class"] == "ResNet" and backbone["args"]["block_inplanes"] == [4, 8, 16, 32]  # read from `$` calls
    assert card.raw["bundle"]["detector"]["box_selector"]["detections_per_img"] == 3
    volume = radview_volume()
    result = run_model(card, volume, "cpu")
    assert 1 <= len(result.findings) <= 3
    for n, finding in enumerate(result.findings, start=1):
        assert finding.kind is FindingKind.NODULE_CT and finding.finding_type.meaning == "Nodule"
        assert finding.confidence >= card.thresholds["min_score"]
        assert finding.measurements["long_axis_mm"] >= finding.measurements["short_axis_mm"] > 0
        k, j, i = np.round(volume.patient_mm_to_voxel(np.array(finding.centre_lps_mm))).astype(int)
        assert 0 <= k < volume.shape[0] and 0 <= j < volume.shape[1] and 0 <= i < volume.shape[2]
        assert (result.labels == n).any()  # the box's ellipsoid is drawn for the reader


def test_imported_models_are_found_with_the_others(imported, monkeypatch):
    monkeypatch.setattr("radview.ai.registry.imported_models_folder", lambda: imported["destination"])
    cards, refused = find_models()
    ids = {c.id for c in cards}
    assert {"Spleen-CT-segmentation", "lung-nodules", "ct-nodule"} <= ids
    assert not [r for r in refused if "imported" in str(r.folder)]


def test_a_tampered_card_is_refused(imported, tmp_path):
    """The card is untrusted too: its network and steps are checked against the allow-lists at every load."""
    import shutil

    folder = tmp_path / "tampered"
    shutil.copytree(imported["segmentation"].folder, folder)
    raw = json.loads((folder / "model.json").read_text())
    raw["bundle"]["preprocessing"].append({"transform": "Lambda", "args": {"func": "os.system"}})
    (folder / "model.json").write_text(json.dumps(raw))
    with pytest.raises(CardError, match="not an allowed transform step"):
        check_package(folder)
    raw["bundle"]["preprocessing"].pop()
    raw["architecture"]["args"] = {"class": "Lambda", "args": {}}
    (folder / "model.json").write_text(json.dumps(raw))
    with pytest.raises(CardError, match="Lambda.*allow-list"):
        check_package(folder)
    assert load_card(folder / "model.json").is_bundle  # the schema alone does not know the allow-list: the registry does


def test_id_clash_and_bad_id_are_refused(imported, tmp_path):
    from radview.ai.bundle_config import BundleRefused

    bundle = segmentation_bundle(tmp_path / "again")
    with pytest.raises(BundleRefused, match="exists already"):
        import_bundle(bundle, imported["destination"])
    with pytest.raises(BundleRefused, match="letters, digits"):
        import_bundle(bundle, tmp_path / "out", card_id="../evil")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_command_line_import_and_listing(tmp_path, monkeypatch, capsys):
    from radview.cli import main

    monkeypatch.setenv("RADVIEW_HOME", str(tmp_path / "home"))
    bundle = segmentation_bundle(tmp_path / "spleen")
    assert main(["models", "import", str(bundle), "--id", "spleen"]) == 0
    out = capsys.readouterr().out
    assert "imported spleen 0.5.2" in out and "publisher's claim, not measured here: mean_dice 0.961" in out
    assert (tmp_path / "home" / "data" / "models" / "spleen" / "weights.safetensors").is_file()
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "spleen 0.5.2" in listing and "input check: none" in listing
    assert main(["models", "import", str(bundle), "--id", "spleen"]) == 2  # the id is taken
    assert "refused" in capsys.readouterr().err


def test_run_record_says_no_input_check(imported):
    from radview.workflow.model_selection import run_record

    volume = radview_volume()
    record = run_record(run_model(imported["segmentation"].card, volume, "cpu"), volume)
    assert not record.input_check and "no input check is available" in record.statement()
    assert "the input check passed" not in record.statement()


def test_paths_are_files_of_the_bundle(tmp_path):
    assert Path(__file__).is_file()  # the factory writes the zoo layout exactly
    bundle = segmentation_bundle(tmp_path / "b")
    assert sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file()) == [
        "configs/inference.json", "configs/metadata.json", "docs/README.md", "models/model.pt"]
