"""Triage order: positives first, but no study waits past the limit behind them; PACS nodes in settings."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from radview.core.pacs import DICOMWEB, PacsNode, StudyQuery, StudyRecord
from radview.core.settings import load_settings, save_settings
from radview.core.worklist import triage_order

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def entry(name, minutes_ago, positive=None, signed=False):
    from radview.core.worklist import WorklistEntry

    return WorklistEntry(StudyRecord(name), NOW - timedelta(minutes=minutes_ago), positive, int(bool(positive)), signed)


def test_positives_first_then_the_rest_oldest_first():
    entries = [entry("negative-old", 50, False), entry("positive-new", 5, True), entry("unrun", 30),
               entry("positive-old", 20, True), entry("signed-positive", 55, True, signed=True)]
    order = [e.record.study_instance_uid for e in triage_order(entries, 60, NOW)]
    assert order == ["positive-old", "positive-new", "negative-old", "unrun", "signed-positive"]


def test_no_study_waits_past_the_limit_behind_positives():
    waiting = entry("negative", 0, False)
    arrivals = []
    for minute in range(0, 120, 5):  # a positive study arrives every 5 minutes
        now = NOW + timedelta(minutes=minute)
        arrivals.append(entry(f"positive-{minute}", -minute, True))
        first = triage_order([waiting, *arrivals], 60, now)[0]
        if minute >= 60:
            assert first is waiting, f"at {minute} min the negative study must be first"
        else:
            assert first is not waiting


def test_pacs_nodes_are_validated_in_the_settings_file(tmp_path):
    path = tmp_path / "settings.json"
    good = PacsNode("web", DICOMWEB, url="https://pacs.example/dicom-web", token="t").to_dict()
    path.write_text(json.dumps({"pacs_nodes": [good], "worklist_max_wait_minutes": 30}))
    settings, problems = load_settings(path)
    assert not problems and settings.pacs_node("WEB").url == "https://pacs.example/dicom-web"
    assert settings.worklist_max_wait_minutes == 30
    path.write_text(json.dumps({"pacs_nodes": [{"name": "x", "kind": "dimse", "ae_title": "A" * 17, "host": "h"}]}))
    settings, problems = load_settings(path)
    assert settings.pacs_nodes == [] and "pacs_nodes" in problems[0]
    save_settings(settings, path)
    assert path.stat().st_mode & 0o077 == 0, "PACS passwords may be in it: readable by the user only"


def test_query_date_ranges():
    assert StudyQuery(date_from="20260101", date_to="20260131").date_range == "20260101-20260131"
    assert StudyQuery(date_from="20260101").date_range == "20260101-"
    assert StudyQuery(date_to="20260131").date_range == "-20260131"
    assert StudyQuery().date_range == ""


def test_a_study_without_an_ai_result_is_never_shown_as_negative():
    from radview.core.worklist import WorklistEntry

    def summary(**fields) -> str:
        return WorklistEntry(StudyRecord("s"), NOW, **fields).ai_summary

    assert summary() == "not run"
    assert summary(ai_positive=True, ai_findings=2, ai_ran=1) == "2 finding(s)"
    assert summary(ai_positive=False, ai_ran=1) == "none"
    assert summary(ai_positive=False, ai_refused=1) == "no AI result (images unlike the training data)"
    assert summary(ai_positive=False) == "no AI result (no model made for these series)"
