"""`radview analyze` end to end on the demo phantoms: findings.json, the draft, the PDF, the audit log."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest


from tests.conftest import radview_command as _radview


def _pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed: packaging/debian-packages.sh installs it")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.replace("ﬁ", "fi").split())  # join the lines the layout broke


@pytest.fixture(scope="module")
def analyzed_ct(demo_study, tmp_path_factory):
    home, out = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("out")
    done = _radview(home, "analyze", str(demo_study / "dicom" / "chest-ct"), "--out", str(out), "--accept-all",
                    "--reader", "Dr Test", "--risk", "high")
    assert done.returncode == 0, done.stderr
    return home, out, done


def test_the_pdf_carries_every_accepted_finding_with_size_and_image(analyzed_ct):
    home, out, done = analyzed_ct
    findings = json.loads((out / "findings.json").read_text())
    accepted = [f["original"] for f in findings["findings"] if f["status"] == "accepted"]
    assert accepted, "the demo CT has nodules the model finds"
    text = _pdf_text(out / "report.pdf")
    for f in accepted:
        m = f["measurements"]
        assert f"{m['mean_diameter_mm']:.0f} mm (long axis {m['long_axis_mm']:.1f} mm" in text
        assert f"series 3, image {f['instance_number']}" in text
    assert "PHANTOM" in text and "Reader Dr Test" in text
    assert "Preliminary — requires verification by a radiologist" in text
    assert "Trained on synthetic phantoms made by RadView, for demonstration only" in text
    assert "Fleischner Society 2017" in text and "high-risk" in text
    assert "page 1 of" in text
    fonts = subprocess.run(["pdffonts", str(out / "report.pdf")], capture_output=True, text=True).stdout
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:]), fonts  # every font embedded
    assert (out / "report.html").read_text().lower().count("pulmonary nodule in the") == len(accepted)


def test_the_risk_analyze_was_given_is_the_reports_own_so_the_window_keeps_it(analyzed_ct):
    """`--risk high` is kept in the saved report as a field, which the window (and the next
    analyze without --risk) reads, not as a header key a redraft replaces."""
    from radview.core.report import Report
    from radview.workflow.reporting import StudyContext, update_report
    from radview.core.review import Review
    from radview.core.study_index import Patient, Study

    home, out, _ = analyzed_ct
    saved = json.loads(next(home.rglob("report.json")).read_text())
    report = Report.from_dict(saved)
    assert report.nodule_risk == "high" and "nodule_risk" not in report.header
    update_report(report, StudyContext(Patient("P"), Study(report.study_instance_uid)), Review(), "Dr Test")
    assert report.nodule_risk == "high"  # a redraft without a risk keeps the reader's
    old = {**saved, "header": {**saved["header"], "nodule_risk": "high"}}
    del old["nodule_risk"]
    assert Report.from_dict(old).nodule_risk == "high"  # drafts saved before it was a field


def test_the_audit_log_verifies_and_tampering_is_reported(analyzed_ct):
    home, out, _ = analyzed_ct
    study_uid = json.loads((out / "findings.json").read_text())["study_instance_uid"]
    ok = _radview(home, "audit", study_uid)
    assert ok.returncode == 0 and "chain intact" in ok.stdout
    log = next(home.rglob("audit.jsonl"))
    lines = log.read_text().splitlines()
    entry = json.loads(lines[-1])
    entry["action"] = "reject"
    log.write_text("\n".join(lines[:-1] + [json.dumps(entry)]) + "\n")
    bad = _radview(home, "audit", study_uid)
    assert bad.returncode == 1 and "TAMPERED" in bad.stderr and f"line {len(lines)}" in bad.stderr


def test_without_accept_all_the_findings_stay_unreviewed_and_the_draft_says_so(demo_study, tmp_path):
    done = _radview(tmp_path / "home", "analyze", str(demo_study / "dicom" / "brain-mr"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    findings = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert findings["findings"] and all(f["status"] == "unreviewed" for f in findings["findings"])
    text = _pdf_text(tmp_path / "out" / "report.pdf")
    assert "No finding accepted" in text and "not yet reviewed and not in this report" in text
    assert "--accept-all" in done.stdout


def test_a_path_without_dicom_fails_with_a_clear_message(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    done = _radview(tmp_path / "home", "analyze", str(tmp_path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "no DICOM images found" in done.stderr and str(tmp_path) in done.stderr
