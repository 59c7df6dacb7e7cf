"""A site's own labelled data: masks as DICOM SEG, nodules in a LUNA16-style CSV, bad input."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from radview.ai.card import load_card
from radview.workflow.training_data import site_cases

SHIPPED = Path(__file__).resolve().parents[2] / "models"


def _write_seg(source_folder: Path, mask: np.ndarray, label: str, code, out: Path) -> None:
    """A SEG of `mask` (slices, rows, cols) over the series in source_folder, written with highdicom."""
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    from radview.dicom.load import load_stack
    from radview.dicom.scan import scan_path
    from radview.dicom.stacks import split_series

    # mask slice k belongs to the loader's slice k (highdicom does not sort source images)
    volume = load_stack(split_series(scan_path(source_folder).all_series()[0])[0])
    images = [pydicom.dcmread(s.path) for s in volume.slices]
    assert len(images) == mask.shape[0]
    segment = hd.seg.SegmentDescription(
        segment_number=1, segment_label=label, segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=code, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
    seg = hd.seg.Segmentation(
        source_images=images, pixel_array=mask.astype(bool), segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[segment], series_instance_uid=hd.UID(), series_number=99, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer="site", manufacturer_model_name="manual", software_versions="1",
        device_serial_number="1")
    seg.save_as(out)


@pytest.fixture(scope="module")
def brain_truth(demo_study):
    """The demo brain MR's tumour mask in (slice, row, col) order, as the loader orders slices (by position)."""
    import nibabel as nib

    from radview.core.nifti_layout import from_nifti_layout

    return from_nifti_layout(np.asarray(nib.load(demo_study / "ground-truth" / "brain-mr-tumour.nii.gz").dataobj)) > 0


def test_masks_from_a_dicom_seg_equal_the_reference(tmp_path, demo_study, brain_truth):
    from pydicom.sr.codedict import codes

    card = load_card(SHIPPED / "mr-brain-tumor" / "model.json")
    site = tmp_path / "site" / "p1"
    shutil.copytree(demo_study / "dicom" / "brain-mr", site / "dicom")
    tumour = next(o for o in card.outputs if o.value == card.finding_value)
    _write_seg(site / "dicom", brain_truth, tumour.name, codes.SCT.Neoplasm, site / "seg.dcm")
    (case,) = site_cases(tmp_path / "site", card)
    assert case.labels.shape == brain_truth.shape
    assert np.array_equal(case.labels == card.finding_value, brain_truth)


def test_a_seg_whose_segment_matches_no_model_output_is_refused_by_name(tmp_path, demo_study, brain_truth):
    from pydicom.sr.codedict import codes

    card = load_card(SHIPPED / "mr-brain-tumor" / "model.json")
    site = tmp_path / "site" / "p1"
    shutil.copytree(demo_study / "dicom" / "brain-mr", site / "dicom")
    _write_seg(site / "dicom", brain_truth, "Liver", codes.SCT.Liver, site / "seg.dcm")
    with pytest.raises(ValueError, match=r"seg\.dcm: segment 1 'Liver'.*matches none of the model's outputs"):
        site_cases(tmp_path / "site", card)


def test_a_corrupt_seg_names_the_file(tmp_path, demo_study):
    from radview.dicom.seg_read import SegReadError

    card = load_card(SHIPPED / "mr-brain-tumor" / "model.json")
    site = tmp_path / "site" / "p1"
    shutil.copytree(demo_study / "dicom" / "brain-mr", site / "dicom")
    (site / "seg.dcm").write_bytes(b"DICM" * 100)
    with pytest.raises(SegReadError, match=r"seg\.dcm: not a readable DICOM Segmentation"):
        site_cases(tmp_path / "site", card)


def test_nodules_from_a_luna16_csv_become_spheres_at_their_centres(tmp_path, demo_study):
    card = load_card(SHIPPED / "ct-nodule" / "model.json")
    truth = json.loads((demo_study / "ground-truth" / "ground-truth.json").read_text())["chest_ct"]
    site = tmp_path / "site"
    shutil.copytree(demo_study / "dicom" / "chest-ct", site / "p1" / "dicom")
    with (site / "labels.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"])
        for n in truth["nodules"]:
            writer.writerow([truth["series_instance_uid"], *n["centre_mm"], n["diameter_mm"]])
    (case,) = site_cases(site, card)
    assert len(case.truth["nodules"]) == len(truth["nodules"])
    voxel_mm3 = float(np.prod(case.spacing_mm))
    for n in truth["nodules"]:
        k, j, i = np.round(n["centre_voxel"]).astype(int)
        assert case.labels[k, j, i] == card.finding_value
    expected_mm3 = sum(np.pi / 6 * n["diameter_mm"] ** 3 for n in truth["nodules"])
    assert abs((case.labels == card.finding_value).sum() * voxel_mm3 - expected_mm3) <= 0.25 * expected_mm3


def test_a_csv_row_without_numbers_names_the_line(tmp_path, demo_study):
    card = load_card(SHIPPED / "ct-nodule" / "model.json")
    site = tmp_path / "site"
    shutil.copytree(demo_study / "dicom" / "chest-ct", site / "p1" / "dicom")
    (site / "labels.csv").write_text("patient,coordX,coordY,coordZ,diameter_mm\np1,1,2,three,5\n")
    with pytest.raises(ValueError, match=r"labels\.csv, line 2"):
        site_cases(site, card)


def test_evaluate_a_nodule_model_on_a_sites_csv_labelled_ct(tmp_path, demo_study, monkeypatch, capsys):
    """`radview evaluate models/ct-nodule SITE`: the FROC against the CSV's nodules, written beside
    the card's phantom metrics. The model's output is the fixed result of the planted nodules
    (tests/fixed_results.py): this tests the CSV, the matching and the card, while the network
    itself is tested end to end in tests/ai/test_nodule_models.py."""
    from radview import cli
    from radview.ai.conformance import ConformanceResult
    from radview.ai.nodule_strata import RawRun
    from tests.fixed_results import planted_nodule_result

    truth = json.loads((demo_study / "ground-truth" / "ground-truth.json").read_text())["chest_ct"]
    site = tmp_path / "site"
    shutil.copytree(demo_study / "dicom" / "chest-ct", site / "p1" / "dicom")
    with (site / "labels.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["patient", "coordX", "coordY", "coordZ", "diameter_mm"]]
                                + [["p1", *n["centre_mm"], n["diameter_mm"]] for n in truth["nodules"]])
    model = tmp_path / "ct-nodule"
    shutil.copytree(SHIPPED / "ct-nodule", model)
    def planted_run(card, volume, **_):
        findings = planted_nodule_result(demo_study, volume).findings
        return RawRun(findings, None, None, ConformanceResult(True, 0.0, 1.0, 1, "within limits"), 0.1, ranked=findings)

    monkeypatch.setattr("radview.ai.evaluate.run_keeping_raw_output", planted_run)
    assert cli.main(["evaluate", str(model), str(site), "--json", str(tmp_path / "e.json")]) == 0
    summary = json.loads((tmp_path / "e.json").read_text())
    assert summary["scans"] == 1
    assert summary["reference_nodules_4mm_or_more"] == sum(n["diameter_mm"] >= 4 for n in truth["nodules"])
    assert summary["sensitivity_at_1_fp"] == 1.0, "every planted nodule >= 4 mm is found at its CSV centre"
    assert summary["data"] == str(site) and "sensitivity" in capsys.readouterr().out
    metrics = load_card(model / "model.json").metrics
    assert metrics["site"][str(site)] == summary and metrics["headline"] == load_card(SHIPPED / "ct-nodule" / "model.json").metrics["headline"]

def test_the_false_positive_pass_reads_the_recipes_phantoms_in_order_one_at_a_time(monkeypatch):
    import radview.workflow.training_data as training_data

    card = load_card(SHIPPED / "ct-nodule" / "model.json")
    made = []
    monkeypatch.setattr(training_data, "phantom_case", lambda model, seed: made.append(("standard", seed)) or seed)
    monkeypatch.setattr(training_data, "hard_phantom_case", lambda model, seed: made.append(("hard", seed)) or -seed)
    recipe = card.training["recipe"]
    expected = [seed for part in ("fp_train", "fp_validation")
                for seed in training_data.recipe_seeds(recipe, part) + [-s for s in training_data.recipe_seeds(recipe, f"{part}_hard")]]
    assert len(expected) == 44 and 5035 in [-s for s in expected], "the recipe's 44 scans, the extra hard cases too"
    scans = training_data.lazy_recipe_cases(card, "fp_train", "fp_validation")
    assert len(scans) == len(expected) and made == [], "nothing made before it is read"
    assert scans[3] == expected[3] and len(made) == 1
    assert list(scans) == expected
    assert training_data.recipe_cases(card, "fp_train") + training_data.recipe_cases(card, "fp_validation") == expected


def test_the_input_checks_limits_read_every_standard_conformance_phantom_and_hard_ones_within_the_rules(monkeypatch):
    """The standard conformance seeds are drawn as the training phantoms are and all set the limit
    (an MR phantom names no sequence, so the card's rules would drop every one: the limit was then
    set on 4 images and passed 6 of 10 test phantoms); a hard-case one outside the rules is left out."""
    import radview.workflow.training_data as training_data
    from radview.ai.datasets import Case

    def case(patient: str, slice_mm: float) -> Case:
        voxels = np.broadcast_to(np.int16(-800), (60, 512, 512))  # a CT's size, no memory
        return Case(patient, voxels, np.broadcast_to(np.uint8(0), voxels.shape), (slice_mm, 0.7, 0.7))

    monkeypatch.setattr(training_data, "phantom_case", lambda model, seed: case(f"standard-{seed}", 1.25))
    monkeypatch.setattr(training_data, "hard_phantom_case",
                        lambda model, seed: case(f"hard-{seed}", 5.0 if seed % 2 else 1.25))
    for model in ("mr-brain-tumor", "ct-nodule"):
        card = load_card(SHIPPED / model / "model.json")
        recipe = card.training["recipe"]
        limit, checked, _ = training_data.conformance_cases(card, {"validation": []}, site=False)
        standard = [c.patient for c in limit if c.patient.startswith("standard")]
        hard = [c.patient for c in limit if c.patient.startswith("hard")]
        assert standard == [f"standard-{s}" for s in training_data.recipe_seeds(recipe, "conformance")]
        assert len(standard) >= 20, model
        assert hard == [f"hard-{s}" for s in training_data.recipe_seeds(recipe, "conformance_hard") if s % 2 == 0]
        assert len(checked) == len(training_data.recipe_seeds(recipe, "test"))
