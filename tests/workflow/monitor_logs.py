"""Study workspaces with audit logs of known reader decisions, for the monitoring tests.

Each study is one model run on one series, reviewed through the real Review and AuditLog at a
fixed clock. With model cxr-nodule 1.0.0 (AI says present / reader says present):

| study | week | AI findings: decision            | unit                     |
|-------|------|----------------------------------|--------------------------|
| S1    | W10  | accept, reject                   | both present             |
| S2    | W10  | reject                           | AI only                  |
| S3    | W10  | none; reader adds one            | reader only              |
| S4    | W10  | none; reader signs               | both absent              |
| S5    | W10  | edit 10 mm -> 12 mm              | both present             |
| S6    | W10  | left unreviewed                  | not read                 |
| S7    | W10  | accepted unseen (--accept-all)   | not read                 |
| S8    | W11  | reject                           | AI only                  |
| S9    | W11  | accept                           | both present             |
| S10   | W11  | none; reader signs               | both absent              |

and cxr-nodule 1.1.0: S11 (W11) one finding accepted.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from radview.core.ai_runs import ModelRun, RunOutcome
from radview.core.audit import AuditKey, AuditLog
from radview.core.findings import CLINICAL_FINDING, NODULE, Finding
from radview.core.review import MANUAL_MODEL_ID, Review

WEEK_10 = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)  # ISO week 2026-W10
WEEK_11 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)  # ISO week 2026-W11
MODEL = "cxr-nodule"


class Clock:
    """Stands in for radview.core.audit's datetime: now() is the time the test sets."""

    time = WEEK_10

    @classmethod
    def now(cls, tz=None):
        return cls.time


def _finding(study: str, n: int, version: str, size_mm: float = 10.0) -> Finding:
    return Finding(f"{MODEL}-{study}-{n}", NODULE, f"1.2.{study[1:]}.1", MODEL, version, 0.9, (0.0, 0.0, 0.0), 0,
                   {"approximate_diameter_mm": size_mm})


def _study(root: Path, key: AuditKey, name: str, when: datetime, n_findings: int, decide, version: str = "1.0.0"):
    folder = root / "studies" / f"1.2.{name[1:]}"
    folder.mkdir(parents=True)
    Clock.time = when
    review = Review("Dr Monitor", AuditLog(folder / "audit.jsonl", key))
    series = f"1.2.{name[1:]}.1"
    findings = [_finding(name, n, version) for n in range(1, n_findings + 1)]
    review.record_model_run(ModelRun(MODEL, version, series, "series 1 (Chest PA)", RunOutcome.FINDINGS, "",
                                     len(findings)), findings)
    decide(review, [f.id for f in findings], series)
    (folder / "review.json").write_text(json.dumps(review.to_dict()))


def _manual(series: str) -> Finding:
    return Finding("manual-1", CLINICAL_FINDING, series, MANUAL_MODEL_ID, "", 1.0, (1.0, 1.0, 0.0), 0,
                   {"approximate_diameter_mm": 8.0})


def _sign(review: Review, ids, series) -> None:
    review.audit.record(review.reader, "sign", detail="report version 1")


def build_monitor_logs(root: Path, key: AuditKey, monkeypatch) -> None:
    """The studies of the table above under root/studies (monkeypatch fixes the audit clock)."""
    monkeypatch.setattr("radview.core.audit.datetime", Clock)
    _study(root, key, "S1", WEEK_10, 2, lambda r, ids, s: (r.accept(ids[0]), r.reject(ids[1])))
    _study(root, key, "S2", WEEK_10, 1, lambda r, ids, s: r.reject(ids[0]))
    _study(root, key, "S3", WEEK_10, 0, lambda r, ids, s: r.add_manual(_manual(s)))
    _study(root, key, "S4", WEEK_10, 0, _sign)
    _study(root, key, "S5", WEEK_10, 1, lambda r, ids, s: r.edit(ids[0], measurements={"approximate_diameter_mm": 12.0}))
    _study(root, key, "S6", WEEK_10, 1, lambda r, ids, s: None)
    _study(root, key, "S7", WEEK_10, 1, lambda r, ids, s: r.accept_unseen(ids[0], "radview analyze --accept-all"))
    _study(root, key, "S8", WEEK_11, 1, lambda r, ids, s: r.reject(ids[0]))
    # accepted after an undone rejection: only the last decision counts
    _study(root, key, "S9", WEEK_11, 1, lambda r, ids, s: (r.reject(ids[0]), r.undo(), r.accept(ids[0])))
    _study(root, key, "S10", WEEK_11, 0, _sign)
    _study(root, key, "S11", WEEK_11, 1, lambda r, ids, s: r.accept(ids[0]), version="1.1.0")
