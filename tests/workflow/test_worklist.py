"""The worklist's cache reading and its AI triage run on studies nobody analysed yet."""

from __future__ import annotations



from radview.core.worklist import triage_order
from radview.workflow.worklist import analyze_unread, cached_studies
from tests.conftest import copy_into_cache


def test_cached_studies_are_listed_and_triaged_after_the_ai_runs(demo_study, tmp_path):
    cache, data = tmp_path / "cache", tmp_path / "data"
    copy_into_cache(demo_study, ("chest-xray",), cache)
    (cache / "not-a-study").mkdir()  # an empty folder is not listed

    entries = cached_studies(cache, data)
    assert len(entries) == 1 and entries[0].record.modalities == ["DX"] and entries[0].ai_positive is None

    assert analyze_unread(entries, data, device="cpu") == (1, [])
    assert entries[0].ai_positive is True and entries[0].ai_findings >= 1, "the demo radiograph has planted nodules"
    again = cached_studies(cache, data)
    assert again[0].ai_positive is True and not again[0].signed, "the state is read back from the workspace"
    assert analyze_unread(again, data) == (0, []), "a study the AI has seen is not run again"
    assert triage_order(again, 60)[0] is again[0]
