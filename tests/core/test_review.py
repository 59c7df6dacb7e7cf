"""Review actions, the audit chain and the report draft's life cycle (core, no Qt)."""

from __future__ import annotations

import json

import pytest

from radview.core.audit import AuditLog, verify_audit_log
from radview.core.findings import Code, Finding
from radview.core.report import Report, ReportLocked
from radview.core.review import Review, ReviewStatus

NODULE = Code("27925004", "SCT", "Nodule")


def _finding(n: int, model: str = "ct-nodule") -> Finding:
    return Finding(f"{model}-{n}", NODULE, "1.2.3", model, "1.0.0", 0.9, (1.0, 2.0, 3.0), 10 + n,
                   {"long_axis_mm": 8.0, "short_axis_mm": 6.0, "mean_diameter_mm": 7.0}, {"side": "left"})


def test_accept_reject_edit_keep_the_ai_original_and_undo_redo(tmp_path):
    review = Review("Dr A", AuditLog(tmp_path / "audit.jsonl"))
    review.add_model_findings([_finding(1), _finding(2), _finding(3)])
    assert review.progress() == (0, 3)
    review.accept("ct-nodule-1")
    review.reject("ct-nodule-2")
    review.edit("ct-nodule-3", measurements={"long_axis_mm": 10.0}, location={"side": "right"}, note="checked")
    assert review.progress() == (3, 3)
    edited = review.items["ct-nodule-3"]
    assert edited.status is ReviewStatus.EDITED
    assert edited.current.measurements["long_axis_mm"] == 10.0 and edited.current.location["side"] == "right"
    assert edited.original.measurements["long_axis_mm"] == 8.0 and edited.original.location["side"] == "left"
    assert [f.id for f in review.accepted()] == ["ct-nodule-1", "ct-nodule-3"]
    assert review.undo() == "ct-nodule-3"
    assert review.items["ct-nodule-3"].status is ReviewStatus.UNREVIEWED and review.items["ct-nodule-3"].edited is None
    assert review.redo() == "ct-nodule-3"
    assert review.items["ct-nodule-3"].current.measurements["long_axis_mm"] == 10.0
    # a model re-run replaces only the findings nobody has decided on
    review.undo()
    review.add_model_findings([_finding(1), _finding(4)])
    assert set(review.items) == {"ct-nodule-1", "ct-nodule-2", "ct-nodule-4"}
    # saved and restored as it was
    restored = Review("Dr A")
    restored.restore(json.loads(json.dumps(review.to_dict())))
    assert {k: v.status for k, v in restored.items.items()} == {k: v.status for k, v in review.items.items()}
    actions = [json.loads(line)["action"] for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert actions[:7] == ["ai-finding", "ai-finding", "ai-finding", "accept", "reject", "edit", "undo-edit"]
    assert verify_audit_log(tmp_path / "audit.jsonl").intact


def test_a_manual_finding_is_accepted_and_its_id_is_unique():
    review = Review("Dr A")
    manual = _finding(1, model="manual")
    review.add_manual(manual)
    assert review.items[manual.id].status is ReviewStatus.ACCEPTED and review.items[manual.id].is_manual
    with pytest.raises(ValueError, match="already exists"):
        review.add_manual(manual)


def _logged(tmp_path, n: int = 4):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(n):
        log.record("Dr A", "accept", f"f{i}", {"status": "unreviewed"}, {"status": "accepted"}, "1.0.0")
    return path


def test_the_audit_chain_detects_an_edited_line(tmp_path):
    path = _logged(tmp_path)
    lines = path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["reader"] = "Dr B"  # someone rewrites who accepted it
    lines[1] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")
    check = verify_audit_log(path)
    assert not check.intact and any(p.startswith("line 2:") and "edited" in p for p in check.problems)


def test_the_audit_chain_detects_a_removed_line_and_appends_continue_the_chain(tmp_path):
    path = _logged(tmp_path)
    AuditLog(path).record("Dr A", "reject", "f9")  # a new session appends to the same chain
    assert verify_audit_log(path).intact and verify_audit_log(path).entries == 5
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    check = verify_audit_log(path)
    assert not check.intact and any("line 3:" in p for p in check.problems)


def test_the_draft_follows_findings_but_never_overwrites_the_readers_text():
    report = Report("1.2.3")
    report.update_draft({"reader": "Dr A"}, {"findings": "<p>one</p>", "impression": "<p>i1</p>"})
    report.reader_edit("impression", "<p>my words</p>")
    pending = report.update_draft({"reader": "Dr A"}, {"findings": "<p>two</p>", "impression": "<p>i2</p>"})
    assert report.sections["findings"].html == "<p>two</p>"  # untouched by the reader: follows
    assert report.sections["impression"].html == "<p>my words</p>" and pending == ["impression"]
    assert report.sections["impression"].pending_html == "<p>i2</p>"
    report.take_pending("impression")
    assert report.sections["impression"].html == "<p>i2</p>"


def test_a_signed_report_is_locked_and_an_amendment_is_a_new_version():
    report = Report("1.2.3")
    report.update_draft({}, {"findings": "<p>one</p>"})
    with pytest.raises(ValueError, match="reader's name"):
        report.sign("  ", "2026-11-22T10:00Z")
    report.sign("Dr A", "2026-11-22T10:00Z")
    with pytest.raises(ReportLocked, match="signed by Dr A"):
        report.reader_edit("findings", "<p>changed</p>")
    amended = report.amend()
    assert (amended.version, amended.amends_version, amended.signed) == (2, 1, False)
    amended.reader_edit("findings", "<p>addendum</p>")
    assert report.sections["findings"].html == "<p>one</p>"
    assert Report.from_dict(json.loads(json.dumps(amended.to_dict()))) == amended


def test_model_runs_replace_stale_findings_and_are_kept_with_the_review():
    from radview.core.ai_runs import ModelRun, RunOutcome

    review = Review("Dr A")
    first = _finding(1)
    ran = ModelRun(first.model_id, first.model_version, first.series_instance_uid, "series 2", RunOutcome.FINDINGS,
                   "input check passed", 1)
    review.record_model_run(ran, [first])
    assert list(review.items) == [first.id]
    # reopening the series: a not-applicable record never hides a run that happened
    review.record_model_run(ModelRun(first.model_id, first.model_version, first.series_instance_uid, "series 2",
                                     RunOutcome.NOT_APPLICABLE, "sequence T1; made for FLAIR"))
    assert review.model_runs[ran.key] == ran and list(review.items) == [first.id]
    # a re-run whose input is refused leaves none of the earlier, unreviewed findings
    refused = ModelRun(first.model_id, first.model_version, first.series_instance_uid, "series 2",
                       RunOutcome.INPUT_REFUSED, "this image is unlike the data the model was trained on", 0)
    review.record_model_run(refused, [])
    assert review.items == {} and review.withheld_runs() == [refused]
    restored = Review("Dr A")
    restored.restore(review.to_dict())
    assert restored.withheld_runs() == [refused]


def test_findings_of_a_model_no_longer_made_for_the_series_are_not_kept_unreviewed():
    """A review saved under an older card: its unreviewed findings on a series the card now
    excludes go; the reader's decisions stay."""
    from radview.core.ai_runs import ModelRun, RunOutcome

    review = Review("Dr A")
    review.add_model_findings([_finding(1), _finding(2)])
    review.accept(_finding(2).id)
    review.record_model_run(ModelRun("ct-nodule", "1.0.0", "1.2.3", "series 2", RunOutcome.NOT_APPLICABLE,
                                     "slice spacing 5 mm; made for 0.6-2.5 mm"))
    assert list(review.items) == [_finding(2).id]


def _forge(entry: dict, previous_hash: str) -> dict:
    """What someone who can write the file but holds no key can do: recompute a plain SHA-256."""
    import hashlib

    body = {k: v for k, v in entry.items() if k != "hash"}
    body["previous_hash"] = previous_hash
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {**body, "hash": hashlib.sha256((previous_hash + canonical).encode()).hexdigest()}


def test_a_forged_line_with_recomputed_hashes_does_not_verify(tmp_path):
    path = _logged(tmp_path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    forged = _forge({**lines[-1], "seq": 5, "action": "reject", "finding_id": "f0"}, lines[-1]["hash"])
    path.write_text("\n".join(json.dumps(e) for e in [*lines, forged]) + "\n")
    check = verify_audit_log(path)
    assert not check.intact and any(p.startswith("line 5:") and "forged" in p for p in check.problems)

    # an accept changed to reject, with every later hash recomputed
    changed = [lines[0], _forge({**lines[1], "action": "reject"}, lines[0]["hash"])]
    for entry in lines[2:]:
        changed.append(_forge(entry, changed[-1]["hash"]))
    path.write_text("\n".join(json.dumps(e) for e in changed) + "\n")
    assert not verify_audit_log(path).intact


def test_a_log_cut_short_at_its_end_is_detected(tmp_path):
    path = _logged(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    check = verify_audit_log(path)
    assert not check.intact and "lines removed at the end" in check.problems[0]


def test_another_accounts_key_cannot_verify_and_says_so(tmp_path):
    from radview.core.audit import AuditKey

    path = _logged(tmp_path)
    other = verify_audit_log(path, AuditKey(tmp_path / "other-account"))
    assert other.intact and not other.verified and other.unverifiable
    assert any("another account" in note for note in other.notes)
    own = AuditKey(tmp_path / "account")
    assert (own.folder / "audit.key").stat().st_mode & 0o777 == 0o600, "the key is the account's alone"
