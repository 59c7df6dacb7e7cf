"""`radview monitor`: rates, kappa with CI, size edits and weekly trend against hand-computed values
(the studies are described in tests/workflow/monitor_logs.py)."""

from __future__ import annotations

import json
import math

import pytest

from radview.core.audit import AuditKey, verify_audit_log
from radview.workflow.monitor import cohen_kappa, monitor
from tests.conftest import radview_command
from tests.workflow.monitor_logs import WEEK_11, build_monitor_logs


@pytest.fixture
def logs(tmp_path, monkeypatch):
    key = AuditKey(tmp_path / "key")
    build_monitor_logs(tmp_path / "data", key, monkeypatch)
    monkeypatch.undo()  # the audit's clock is real again
    return tmp_path / "data", key


def _model(report: dict, version: str) -> dict:
    return next(m for m in report["models"] if m["model_version"] == version)


def test_rates_kappa_and_size_edits_match_the_hand_computed_values(logs):
    root, key = logs
    report = monitor(root, check=lambda path: verify_audit_log(path, key).problems)
    assert report["studies"] == 11 and not report["excluded"]
    v1 = _model(report, "1.0.0")
    # decided: accepted S1, S9; edited S5; rejected S1, S2, S8 (S6 unreviewed, S7 accepted unseen)
    assert v1["counts"] == {"accepted": 2, "edited": 1, "rejected": 3, "unreviewed": 1, "accepted-unseen": 1,
                            "decided": 6}
    assert v1["rates"] == {"accepted_rate": round(2 / 6, 4), "edited_rate": round(1 / 6, 4), "rejected_rate": 0.5}
    # units read: both present S1 S5 S9 (3), AI only S2 S8 (2), reader only S3 (1), both absent S4 S10 (2)
    # po = 5/8, pe = (5*4 + 3*4)/64 = 1/2, kappa = (5/8 - 1/2)/(1/2) = 1/4
    # SE = sqrt(po (1 - po) / (n (1 - pe)^2)) = sqrt(0.234375 / 2) = 0.342327
    agreement = v1["agreement"]
    assert (agreement["n"], agreement["both_present"], agreement["ai_only"], agreement["reader_only"],
            agreement["both_absent"]) == (8, 3, 2, 1, 2)
    assert agreement["observed_agreement"] == 0.625 and agreement["kappa"] == 0.25
    se = math.sqrt(0.625 * 0.375 / (8 * 0.25))
    assert agreement["ci_low"] == pytest.approx(0.25 - 1.959964 * se, abs=1e-4) == -0.4209
    assert agreement["ci_high"] == pytest.approx(0.25 + 1.959964 * se, abs=1e-4)
    assert v1["size_edits"] == {"n": 1, "mean_change_mm": 2.0, "mean_abs_change_mm": 2.0}
    # by week: W10 has S1-S7, W11 has S8-S10
    w10, w11 = v1["weeks"]
    assert (w10["week"], w11["week"]) == ("2026-W10", "2026-W11")
    assert w10["counts"]["decided"] == 4 and w10["rates"]["rejected_rate"] == 0.5
    assert w11["counts"] == {"accepted": 1, "edited": 0, "rejected": 1, "unreviewed": 0, "accepted-unseen": 0,
                             "decided": 2}
    # W10: a=2 b=1 c=1 d=1, po 3/5, pe 13/25, kappa (3/5 - 13/25)/(12/25) = 1/6; W11: a=b=d=1, kappa 0.4
    assert w10["agreement"]["kappa"] == round(1 / 6, 4) and w11["agreement"]["kappa"] == 0.4
    v11 = _model(report, "1.1.0")  # one run, both present: kappa undefined, said as None
    assert v11["counts"]["accepted"] == 1 and v11["agreement"]["n"] == 1 and v11["agreement"]["kappa"] is None


def test_since_keeps_the_later_decisions_and_an_altered_log_is_left_out(logs):
    root, key = logs
    log = root / "studies" / "1.2.2" / "audit.jsonl"  # S2: its rejection rewritten as an acceptance
    log.write_text(log.read_text().replace('"action": "reject"', '"action": "accept"'))
    report = monitor(root, since=WEEK_11.replace(hour=0), check=lambda path: verify_audit_log(path, key).problems)
    assert [e["study"] for e in report["excluded"]] == ["1.2.2"]
    v1 = _model(report, "1.0.0")
    assert v1["counts"]["decided"] == 2 and [w["week"] for w in v1["weeks"]] == ["2026-W11"]
    assert v1["agreement"]["n"] == 3


def test_kappa_of_perfect_and_of_chance_agreement():
    assert cohen_kappa([(True, True), (False, False)])["kappa"] == 1.0
    # po = 1/2, pe = 1/2: no better than chance
    assert cohen_kappa([(True, True), (True, False), (False, True), (False, False)])["kappa"] == 0.0
    assert cohen_kappa([])["kappa"] is None


def test_the_command_writes_the_html_page_and_the_same_figures_as_json(logs, tmp_path):
    root, _ = logs
    done = radview_command(tmp_path / "home", "monitor", "--data", str(root), "--html", str(tmp_path / "m.html"),
                           "--json", str(tmp_path / "m.json"), "--since", "2026-03-01")
    assert done.returncode == 0, done.stderr
    assert "cxr-nodule 1.0.0: 6 decided (accepted 33 %, edited 17 %, rejected 50 %)" in done.stdout
    assert "kappa 0.25 (95 % CI -0.42 to 0.92, n=8)" in done.stdout
    data = json.loads((tmp_path / "m.json").read_text())
    assert [f["id"] for f in data["figures"]][:3] == ["cxr-nodule 1.0.0 rates", "cxr-nodule 1.0.0 kappa",
                                                      "cxr-nodule 1.0.0 sizes"]
    kappa = data["figures"][1]
    assert kappa["x"] == ["2026-W10", "2026-W11"] and kappa["series"]["kappa"] == [round(1 / 6, 4), 0.4]
    page = (tmp_path / "m.html").read_text()
    assert page.count("src='data:image/png;base64,") == len(data["figures"]) == 6
