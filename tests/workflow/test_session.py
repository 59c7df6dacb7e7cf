"""The headless study session: model requests, review, report, sign/amend, exports and the
study lock, driven with a fixed model result (no network runs here)."""

from __future__ import annotations

import json

import pytest

from radview.core.audit import verify_audit_log
from radview.core.report import ReportLocked
from radview.core.study_lock import StudyInUse
from radview.workflow.exports import export_dicom, export_pdf
from radview.workflow.session import StudySession


@pytest.fixture
def ct(planted_ct):
    return planted_ct


def _open(ct, data_root, **options) -> StudySession:
    index, series, volume, _result = ct
    session = StudySession.of_series(index, series, data_root, "Dr Session", **options)
    session.add_series(series, volume)
    return session


def _with_findings(ct, data_root) -> StudySession:
    session = _open(ct, data_root)
    result = ct[3]
    assert session.apply(session.request(result.card, ct[2].series_instance_uid), result) is not None
    return session


def test_a_rerun_replaces_the_result_and_its_layers_and_stale_results_are_dropped(ct, tmp_path):
    session = _open(ct, tmp_path)
    result, uid = ct[3], ct[2].series_instance_uid
    shown: list[tuple] = []
    session.model_output.connect(lambda new, old: shown.append((new, old)))
    first = session.request(result.card, uid)
    output = session.apply(first, result)
    assert len(result.findings) >= 3 and len(session.review.items) == len(result.findings)
    assert [layer.name.split()[-1] for layer in output.layers] == ["mask", "flags"]

    older, newer = session.request(result.card, uid), session.request(result.card, uid)
    assert session.apply(older, result) is None, "a request superseded by a newer one is stale"
    again = session.apply(newer, result)
    assert shown[-1] == (again, output), "the re-run names the output whose layers it replaces"
    assert list(session.outputs) == [newer.key] and len(session.review.items) == len(result.findings)

    session.close()
    assert session.apply(session.request(result.card, uid), result) is None, "a closed study takes no result"


def test_review_actions_are_saved_and_audited_and_a_signed_report_is_locked(ct, tmp_path):
    session = _with_findings(ct, tmp_path)
    first, second = list(session.review.items)[:2]
    session.accept(first)
    session.reject(second)
    assert session.undo() == second and session.redo() == second
    saved = json.loads(session.workspace.review_path.read_text())
    assert {f["original"]["id"]: f["status"] for f in saved["findings"]}[first] == "accepted"
    assert "pulmonary nodule" in session.report.sections["findings"].html

    session.sign()
    with pytest.raises(ReportLocked):
        session.accept(second)
    with pytest.raises(ReportLocked):
        session.set_nodule_risk("high")
    session.amend()
    assert session.report.version == 2 and not session.report.signed
    session.close()
    assert session.workspace.signed_version_path(1).exists()
    check = verify_audit_log(session.workspace.audit_path)
    actions = [json.loads(line)["action"] for line in session.workspace.audit_path.read_text().splitlines()]
    assert check.intact, check.problems
    assert {"accept", "reject", "undo-reject", "redo-reject", "sign", "amend"} <= set(actions)


def test_the_nodule_risk_is_the_reports_own_and_a_reopened_session_keeps_it(ct, tmp_path):
    session = _with_findings(ct, tmp_path)
    session.accept(next(iter(session.review.items)))
    low = session.report.sections["impression"].html
    session.set_nodule_risk("high")
    assert session.report.sections["impression"].html != low
    session.close()

    reopened = _open(ct, tmp_path)  # adding the series redrafts: the risk must survive that
    assert reopened.restored and reopened.report.nodule_risk == "high"
    assert reopened.report.sections["impression"].html != low
    reopened.close()


def test_one_writer_per_study_a_second_session_waits_or_opens_read_only(ct, tmp_path):
    writer = _with_findings(ct, tmp_path)
    with pytest.raises(StudyInUse, match="open elsewhere: radview .*process"):
        _open(ct, tmp_path, lock_timeout_s=0.2)
    reader = _open(ct, tmp_path, read_only_if_busy=True)
    assert not reader.writable and len(reader.review.items) == len(writer.review.items)
    with pytest.raises(StudyInUse):
        reader.accept(next(iter(reader.review.items)))
    reader.close()
    writer.close()
    after = _open(ct, tmp_path, lock_timeout_s=0.2)
    assert after.writable
    after.close()


def test_exports_are_written_and_audited_by_the_session(ct, tmp_path):
    session = _with_findings(ct, tmp_path)
    assert session.accept_all("a batch rule") == len(session.review.items)
    assert "accepted without review by a batch rule" in session.report.sections["findings"].html
    out = tmp_path / "out"
    assert export_pdf(session, out / "report.pdf") >= 1
    results = export_dicom(session, out / "dicom", out / "report.pdf")
    assert results.segmentations and results.structured_report
    session.close()
    actions = [json.loads(line)["action"] for line in session.workspace.audit_path.read_text().splitlines()]
    assert actions[-2:] == ["export-pdf", "export-dicom"]
