"""Post-market monitoring of the AI: how readers decide on each model version's findings.

Read from the studies' workspaces: the audit log (audit.jsonl) gives every AI finding and the
reader's last decision on it, with the time; review.json adds the model runs that found nothing,
which the audit log does not list, so that agreement on presence has its negative cases.

Per model and version (and per ISO week of the decision):

- decision rates: accepted, edited, rejected among the findings a reader decided on. Findings
  still unreviewed, and those accepted without review (`analyze --accept-all`), are counted but
  are not decisions;
- reader-vs-AI agreement on presence, per model run on a series (a unit): the AI says present
  when the run has a finding; the reader says present when they kept one of its findings or
  added a finding of their own on that series. A unit counts once the reader has decided every
  AI finding of it and has acted on the study (a decision, or signing). Cohen's kappa with its
  95 % CI (the large-sample standard error, Cohen 1960);
- size edits: the reader's size minus the AI's (mm), for findings the reader edited.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from radview.core.findings import Finding
from radview.core.review import MANUAL_MODEL_ID

DECIDED = ("accepted", "edited", "rejected")
READER_ACTIONS = {"accept", "edit", "reject", "add", "sign", "undo-accept", "undo-edit", "undo-reject",
                  "redo-accept", "redo-edit", "redo-reject", "undo-add", "redo-add"}
Z_95 = 1.959964


@dataclass
class Decision:
    """The last state of one finding in a study's audit log."""

    study: str
    finding_id: str
    model_id: str
    model_version: str
    series_instance_uid: str
    status: str  # unreviewed, accepted, accepted-unseen, edited, rejected
    time: datetime
    size_ai_mm: float = 0.0
    size_reader_mm: float = 0.0  # the edited size (0 when not edited)


@dataclass
class Unit:
    """One model run on one series: does the AI say present, does the reader (None: not read)."""

    study: str
    model_id: str
    model_version: str
    series_instance_uid: str
    ai_present: bool
    reader_present: bool | None
    time: datetime | None


@dataclass
class StudyAudit:
    decisions: list[Decision] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _status(item: dict) -> str:
    if item.get("status") == "accepted" and item.get("accepted_unseen_by"):
        return "accepted-unseen"
    return str(item.get("status", "unreviewed"))


def read_study(folder: Path) -> StudyAudit:
    """The decisions and presence units of one study workspace (audit.jsonl, review.json)."""
    lines = [json.loads(line) for line in (folder / "audit.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    study = folder.name
    last: dict[str, dict] = {}  # finding id -> its last entry (a re-run's same id replaces the earlier)
    read_at: datetime | None = None  # the reader's last action on the study
    for entry in lines:
        if entry.get("action") in READER_ACTIONS:
            read_at = _time(entry["time_utc"])
        item = entry.get("after") or entry.get("before")
        if entry.get("finding_id") and isinstance(item, dict) and "original" in item:
            last[entry["finding_id"]] = entry
    decisions, manual_series = [], set()
    for finding_id, entry in last.items():
        if entry.get("after") is None:
            continue  # removed (an added finding undone)
        item = entry["after"]
        original = Finding.from_dict(item["original"])
        if original.model_id == MANUAL_MODEL_ID:
            if item.get("status") in ("accepted", "edited"):
                manual_series.add(original.series_instance_uid)
            continue
        edited = Finding.from_dict(item["edited"]) if item.get("edited") else None
        decisions.append(Decision(study, finding_id, original.model_id, original.model_version,
                                  original.series_instance_uid, _status(item), _time(entry["time_utc"]),
                                  original.size_mm, edited.size_mm if edited else 0.0))
    return StudyAudit(decisions, _units(folder, study, decisions, manual_series, read_at))


def _units(folder: Path, study: str, decisions: list[Decision], manual_series: set[str],
           read_at: datetime | None) -> list[Unit]:
    runs: dict[tuple[str, str], str] = {}  # (model, series) -> version, of the runs that showed their result
    try:
        review = json.loads((folder / "review.json").read_text(encoding="utf-8"))
        for run in review.get("model_runs", []):
            if run.get("outcome") == "findings":
                runs[(run["model_id"], run["series_instance_uid"])] = run["model_version"]
    except (OSError, ValueError, KeyError):
        pass  # no review.json: the units with findings still come from the audit log
    for d in decisions:
        runs.setdefault((d.model_id, d.series_instance_uid), d.model_version)
    units = []
    for (model, series), version in runs.items():
        mine = [d for d in decisions if d.model_id == model and d.series_instance_uid == series]
        read = read_at is not None and all(d.status in DECIDED for d in mine)
        reader = any(d.status in ("accepted", "edited") for d in mine) or series in manual_series
        units.append(Unit(study, model, version, series, bool(mine), reader if read else None, read_at))
    return units


def cohen_kappa(pairs: list[tuple[bool, bool]]) -> dict:
    """Cohen's kappa of (ai, reader) presence pairs with its 95 % CI; the 2x2 table too.
    kappa is None when it is undefined (no pairs, or both raters constant and equal)."""
    n = len(pairs)
    a = sum(ai and rd for ai, rd in pairs)
    b = sum(ai and not rd for ai, rd in pairs)
    c = sum(rd and not ai for ai, rd in pairs)
    d = n - a - b - c
    result = {"n": n, "both_present": a, "ai_only": b, "reader_only": c, "both_absent": d,
              "observed_agreement": None, "kappa": None, "ci_low": None, "ci_high": None}
    if n == 0:
        return result
    po = (a + d) / n
    pe = ((a + b) * (a + c) + (c + d) * (b + d)) / n ** 2
    result["observed_agreement"] = round(po, 4)
    if pe >= 1.0:
        return result
    kappa = (po - pe) / (1 - pe)
    se = math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))
    result.update(kappa=round(kappa, 4), ci_low=round(max(-1.0, kappa - Z_95 * se), 4),
                  ci_high=round(min(1.0, kappa + Z_95 * se), 4))
    return result


def summarize(decisions: list[Decision], units: list[Unit]) -> dict:
    """Counts, rates, agreement and size edits of one group (a model version, or one week of it)."""
    counts = {s: sum(d.status == s for d in decisions) for s in (*DECIDED, "unreviewed", "accepted-unseen")}
    decided = sum(counts[s] for s in DECIDED)
    rates = {f"{s}_rate": round(counts[s] / decided, 4) if decided else None for s in DECIDED}
    changes = [d.size_reader_mm - d.size_ai_mm for d in decisions
               if d.status == "edited" and d.size_ai_mm > 0 and d.size_reader_mm > 0]
    sizes = {"n": len(changes),
             "mean_change_mm": round(sum(changes) / len(changes), 3) if changes else None,
             "mean_abs_change_mm": round(sum(map(abs, changes)) / len(changes), 3) if changes else None}
    read = [(u.ai_present, bool(u.reader_present)) for u in units if u.reader_present is not None]
    return {"counts": {**counts, "decided": decided}, "rates": rates, "agreement": cohen_kappa(read),
            "size_edits": sizes}


def week_of(time: datetime) -> str:
    year, week, _ = time.isocalendar()
    return f"{year}-W{week:02d}"


def monitor(data_root: Path, since: datetime | None = None, check=None) -> dict:
    """The monitoring report of every study workspace under data_root/studies.

    since: only decisions (and read units) at or after it. check: a function path -> list of
    problems (radview.core.audit.verify_audit_log); a log with problems is left out and listed."""
    studies = sorted(p.parent for p in (Path(data_root) / "studies").glob("*/audit.jsonl"))
    decisions: list[Decision] = []
    units: list[Unit] = []
    excluded = []
    for folder in studies:
        problems = check(folder / "audit.jsonl") if check else []
        if problems:
            excluded.append({"study": folder.name, "problems": problems[:5]})
            continue
        try:
            audit = read_study(folder)
        except (OSError, ValueError, KeyError, TypeError) as error:
            excluded.append({"study": folder.name, "problems": [f"{type(error).__name__}: {error}"]})
            continue
        decisions += [d for d in audit.decisions if since is None or d.time >= since]
        units += [u for u in audit.units if since is None or (u.time is not None and u.time >= since)]
    groups: dict[tuple[str, str], tuple[list, list]] = defaultdict(lambda: ([], []))
    for d in decisions:
        groups[(d.model_id, d.model_version)][0].append(d)
    for u in units:
        groups[(u.model_id, u.model_version)][1].append(u)
    models = []
    for (model, version), (ds, us) in sorted(groups.items()):
        weeks = sorted({week_of(d.time) for d in ds} | {week_of(u.time) for u in us if u.time is not None})
        by_week = [{"week": w, **summarize([d for d in ds if week_of(d.time) == w],
                                           [u for u in us if u.time is not None and week_of(u.time) == w])}
                   for w in weeks]
        models.append({"model_id": model, "model_version": version, **summarize(ds, us), "weeks": by_week})
    return {"since": since.isoformat() if since else None, "studies": len(studies) - len(excluded),
            "excluded": excluded, "models": models}
