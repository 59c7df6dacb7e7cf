"""A series a model was not made for, or whose images are unlike its training data, gets no AI
findings, and findings.json, the draft, the PDF, the SR, the audit log and the worklist say why."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from radview.core.ai_runs import RunOutcome
from radview.core.worklist import WorklistEntry
from tests.conftest import radview_command, real_file
from tests.workflow.test_analyze import _pdf_text


def _relabelled(demo_study: Path, target: Path, change) -> Path:
    """A copy of the demo brain MR with `change(dataset)` applied to every file."""
    target.mkdir(parents=True)
    for path in sorted((demo_study / "dicom" / "brain-mr").iterdir()):
        ds = pydicom.dcmread(path)
        change(ds)
        ds.save_as(target / path.name)
    return target


def _as_t1(ds: pydicom.Dataset) -> None:
    ds.SeriesDescription = "AX T1 SE"
    ds.ScanningSequence, ds.SequenceVariant, ds.SequenceName = "SE", "NONE", "se2d1"
    ds.RepetitionTime, ds.EchoTime = 500, 15
    del ds.InversionTime


def _real_pixels_as_flair(ds: pydicom.Dataset) -> None:
    """Keep the FLAIR headers (the rules pass) and put a real MR image in every slice."""
    real = pydicom.dcmread(real_file("MR2_UNCR.dcm")).pixel_array.astype(np.float32)
    step = real.shape[0] // ds.Rows
    image = real[::step, ::step][: ds.Rows, : ds.Columns]
    ds.PixelData = (image / image.max() * 1500).astype(np.int16).tobytes()
    ds.SeriesDescription = "AX FLAIR (real pixels)"


def test_the_demo_mr_relabelled_as_t1_is_not_run_and_the_report_says_why(demo_study, tmp_path):
    folder = _relabelled(demo_study, tmp_path / "t1", _as_t1)
    home, out = tmp_path / "home", tmp_path / "out"
    done = radview_command(home, "analyze", str(folder), "--out", str(out), "--accept-all")
    assert done.returncode == 0, done.stderr
    findings = json.loads((out / "findings.json").read_text())
    assert findings["findings"] == []
    run = next(r for r in findings["model_runs"] if r["model_id"] == "mr-brain-tumor")
    assert run["outcome"] == RunOutcome.NOT_APPLICABLE.value
    assert "sequence T1" in run["reason"] and "made for FLAIR" in run["reason"]
    assert any("was not run" in s and "sequence T1" in s for s in findings["no_ai_findings_shown"])
    assert "sequence T1" in (out / "report.html").read_text()


@pytest.fixture(scope="module")
def refused(demo_study, tmp_path_factory):
    """`radview analyze --dicom` on FLAIR-labelled series holding a real patient's MR image."""
    root = tmp_path_factory.mktemp("refused")
    folder = _relabelled(demo_study, root / "dicom", _real_pixels_as_flair)
    home, out = root / "home", root / "out"
    done = radview_command(home, "analyze", str(folder), "--out", str(out), "--accept-all", "--dicom",
                           "--reader", "Dr Test")
    assert done.returncode == 0, done.stderr
    return home, out, done


def test_images_unlike_the_training_data_get_no_findings_and_a_measured_reason(refused):
    home, out, done = refused
    findings = json.loads((out / "findings.json").read_text())
    assert findings["findings"] == []
    run = next(r for r in findings["model_runs"] if r["model_id"] == "mr-brain-tumor")
    assert run["outcome"] == RunOutcome.INPUT_REFUSED.value and run["score"] > run["threshold"]
    statement = "this image is unlike the data the model was trained on; no AI findings are shown"
    assert statement in run["reason"] and "feature distance" in run["reason"]
    assert statement in done.stdout + done.stderr  # said on the terminal too
    html = (out / "report.html").read_text()
    assert statement in html and "not a negative result" in html
    pdf = _pdf_text(out / "report.pdf")
    assert statement in pdf and "feature distance" in pdf


def test_the_sr_carries_the_statement_and_stays_valid(refused):
    _home, out, _done = refused
    sr = pydicom.dcmread(out / "dicom" / "sr.dcm")

    def texts(items):
        for item in items:
            if item.ValueType == "TEXT":
                yield item.TextValue
            yield from texts(item.get("ContentSequence", []))
    assert any("unlike the data the model was trained on" in t for t in texts(sr.ContentSequence))
    if shutil.which("dsrdump"):
        assert subprocess.run(["dsrdump", str(out / "dicom" / "sr.dcm")], capture_output=True).returncode == 0


def test_the_refusal_is_audited_and_triage_does_not_call_the_study_positive(refused):
    from datetime import datetime, timezone

    from radview.core.pacs import StudyRecord
    from radview.workflow.worklist import _review_state

    home, out, _done = refused
    study_uid = json.loads((out / "findings.json").read_text())["study_instance_uid"]
    audit = (home / "data" / "studies" / study_uid / "audit.jsonl")
    assert audit.is_file() and '"ai-input-refused"' in audit.read_text()
    entry = WorklistEntry(StudyRecord(study_uid, "", "", "", "", ["MR"], "", "", 36, "cache"), datetime.now(timezone.utc))
    _review_state(entry, home / "data")
    assert entry.ai_positive is False and entry.ai_refused == 1
    assert "no AI result" in entry.ai_summary


def test_radview_inputs_reports_rules_and_measured_check_per_model(demo_study, tmp_path):
    """The demo MR relabelled as T1: the rules exclude it, and the check (phantom pixels) passes."""
    folder = _relabelled(demo_study, tmp_path / "t1", _as_t1)
    done = radview_command(tmp_path / "home", "inputs", str(folder), "--json", str(tmp_path / "inputs.json"))
    assert done.returncode == 0, done.stderr
    verdicts = {v["model"].split()[0]: v for v in json.loads((tmp_path / "inputs.json").read_text())}
    assert set(verdicts) == {"mr-brain-tumor", "ct-nodule", "cxr-nodule"}
    brain = verdicts["mr-brain-tumor"]
    assert "sequence T1" in brain["rules"] and brain["check_passed"] and "feature distance" in brain["check"]
    assert "modality MR; made for CT" in verdicts["ct-nodule"]["rules"] and not verdicts["ct-nodule"]["check_passed"]
    assert "sequence T1" in done.stdout
