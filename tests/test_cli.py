import hashlib
import json
import shutil
import subprocess
import sys

import pytest

from radview.cli import main


def _run(*args):
    return subprocess.run([sys.executable, "-m", "radview", *args], capture_output=True, text=True)


def test_demo_is_deterministic_per_seed_and_differs_between_seeds(tmp_path, demo_study):
    from radview.demo.writer import write_demo_studies

    again = write_demo_studies(tmp_path / "again", seed=0)
    other = write_demo_studies(tmp_path / "other", seed=1, ct_slices=40)
    same = [(demo_study / "dicom" / "brain-mr" / "IM0010"), (tmp_path / "again" / "dicom" / "brain-mr" / "IM0010")]
    assert hashlib.sha256(same[0].read_bytes()).digest() == hashlib.sha256(same[1].read_bytes()).digest()
    assert again["patient"] != other["patient"]
    assert again["chest_ct"]["series_instance_uid"] != other["chest_ct"]["series_instance_uid"]
    truth = json.loads((demo_study / "ground-truth" / "ground-truth.json").read_text())
    nodules = truth["chest_ct"]["nodules"]
    assert nodules and all(3 <= n["diameter_mm"] <= 30 for n in nodules)
    assert "Synthetic phantom" in truth["notice"]


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools not installed (packaging/debian-packages.sh)")
@pytest.mark.parametrize("series", ["chest-ct", "chest-xray", "brain-mr"])
def test_demo_files_pass_dciodvfy(demo_study, series):
    path = sorted((demo_study / "dicom" / series).iterdir())[0]
    out = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True)
    errors = [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("Error")]
    assert errors == []


def test_info_json_lists_series_geometry_and_skipped_files(demo_study, tmp_path, capsys):
    folder = tmp_path / "study"
    shutil.copytree(demo_study / "dicom" / "chest-xray", folder)
    (folder / "readme.txt").write_text("not dicom")
    assert main(["info", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    series = data["patients"][0]["studies"][0]["series"][0]
    assert series["modality"] == "DX" and series["stacks"][0]["rows"] == 2000
    assert data["skipped"][0]["path"].endswith("readme.txt")
    assert "not a DICOM file" in data["skipped"][0]["reason"]


def test_info_text_and_a_missing_folder(demo_study):
    out = _run("info", str(demo_study / "dicom"))
    assert out.returncode == 0 and "Series 3 CT 'Chest" in out.stdout and "200 x 512x512" in out.stdout
    missing = _run("info", "/nonexistent/folder")
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr


def test_convert_writes_nifti_and_sidecar(demo_study, tmp_path):
    out = _run("convert", str(demo_study / "dicom" / "brain-mr"), str(tmp_path / "nifti"))
    assert out.returncode == 0, out.stderr
    assert len(list((tmp_path / "nifti").glob("*.nii.gz"))) == 1
    assert len(list((tmp_path / "nifti").glob("*.json"))) == 1


def test_layer_contracts_hold():
    lint = shutil.which("lint-imports", path=str(__import__("pathlib").Path(sys.executable).parent))
    out = subprocess.run([lint or "lint-imports"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "broken" not in out.stdout.split("Contracts:")[-1].replace("0 broken", "")


def test_models_lists_the_shipped_models_with_their_cards(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RADVIEW_HOME", str(tmp_path))
    assert main(["models", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert {m["id"] for m in listing["models"]} == {"cxr-nodule", "ct-nodule", "mr-brain-tumor"}
    assert listing["refused"] == []
    for model in listing["models"]:
        assert len(model["sha256"]) == 64 and model["metrics"] and "synthetic" in model["notice"]


@pytest.mark.parametrize(("flags", "fp_learned"), [(["--conformance-only"], False), ([], True)])
def test_train_conformance_only_keeps_the_nodule_models_false_positive_reduction(monkeypatch, flags, fp_learned):
    """--conformance-only keeps the weights, so their candidates and the false-positive reduction
    fitted to them stay; new weights get a new one."""
    from pathlib import Path

    calls = []
    section = {"threshold": 1.0, "profile_threshold": 1.0, "threshold_images": {"passed": 1, "images": 1},
               "check_images": {"passed": 0, "images": 0}}
    monkeypatch.setattr("radview.commands.train.model_cases", lambda card, data, part: [])
    monkeypatch.setattr("radview.workflow.training_data.conformance_cases", lambda card, cases, site: ([], [], "none"))
    monkeypatch.setattr("radview.ai.conformance_training.learn_conformance", lambda *a, **k: calls.append("check") or section)
    monkeypatch.setattr("radview.ai.train.train_model", lambda *a, **k: calls.append("weights") or
                        {"best_validation_dice": 0, "steps_run": 0, "seconds": 0})
    monkeypatch.setattr("radview.commands.train._learn_fp_reduction", lambda *a: calls.append("fp") or 0)
    model = Path(__file__).resolve().parents[1] / "models" / "ct-nodule"
    assert main(["train", str(model), *flags]) == 0
    assert calls == (["weights", "check", "fp"] if fp_learned else ["check"])
