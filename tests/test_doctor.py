"""`radview doctor`: versions, device, models with checksums, writable folders, a model run."""

from __future__ import annotations

import json

from tests.conftest import radview_command


def test_doctor_reports_device_models_and_folders(tmp_path):
    done = radview_command(tmp_path / "home", "doctor", "--json", str(tmp_path / "doctor.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "doctor.json").read_text())
    assert {m["id"] for m in report["models"]} == {"ct-nodule", "cxr-nodule", "mr-brain-tumor"}
    assert all(len(m["sha256"]) == 64 and m["checksum"] == "verified" for m in report["models"])
    assert report["device"] in ("cpu", "cuda") and report["device_description"]
    assert report["model_check"].startswith("ct-nodule 1.0.0 ran on ")
    assert all(f["writable"] for f in report["folders"]) and not report["problems"]
    assert report["packages"]["torch"] and report["packages"]["PySide6-Essentials"].startswith("6.")
    assert "AI device:" in done.stdout and "Problems: none" in done.stdout


def test_doctor_names_a_folder_it_cannot_write(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = radview_command(blocker / "home", "doctor", "--quick")
    assert done.returncode == 1
    assert "NOT writable" in done.stdout and str(blocker) in done.stdout
