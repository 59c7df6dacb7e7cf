"""The radiologist's review of a study's findings: accept, edit, reject, add; undo and redo.

The AI's original result is kept beside the reader's edit and never overwritten. Every action
is written to the study's audit log (radview.core.audit) when one is given. Plain data: the
window and `radview analyze` drive the same Review.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from enum import Enum

from radview.core.ai_runs import ModelRun, RunOutcome
from radview.core.audit import AuditLog
from radview.core.findings import Code, Finding


class ReviewStatus(str, Enum):
    UNREVIEWED = "unreviewed"
    ACCEPTED = "accepted"
    EDITED = "edited"  # accepted with the reader's changes
    REJECTED = "rejected"


MANUAL_MODEL_ID = "manual"


@dataclass
class ReviewedFinding:
    """A finding under review: the original (AI or first manual entry), the reader's edit, a note."""

    original: Finding
    status: ReviewStatus = ReviewStatus.UNREVIEWED
    edited: Finding | None = None
    note: str = ""
    # who accepted it without any reader seeing it ("radview analyze --accept-all"); "" when a
    # reader decided. The report and the SR must not call such a finding verified.
    accepted_unseen_by: str = ""

    @property
    def current(self) -> Finding:
        """What the reader now stands behind: the edit, else the original."""
        return self.edited or self.original

    @property
    def is_manual(self) -> bool:
        return self.original.model_id == MANUAL_MODEL_ID

    @property
    def in_report(self) -> bool:
        return self.status in (ReviewStatus.ACCEPTED, ReviewStatus.EDITED)

    def to_dict(self) -> dict:
        return {"original": self.original.to_dict(), "status": self.status.value,
                "edited": self.edited.to_dict() if self.edited else None, "note": self.note,
                "accepted_unseen_by": self.accepted_unseen_by}

    @classmethod
    def from_dict(cls, data: dict) -> ReviewedFinding:
        return cls(Finding.from_dict(data["original"]), ReviewStatus(data["status"]),
                   Finding.from_dict(data["edited"]) if data.get("edited") else None, data.get("note", ""),
                   data.get("accepted_unseen_by", ""))


class Review:
    """All findings of one study in list order, with an undo/redo history of the reader's actions."""

    def __init__(self, reader: str = "", audit: AuditLog | None = None) -> None:
        self.reader = reader
        self.audit = audit
        self.items: dict[str, ReviewedFinding] = {}
        self.model_runs: dict[str, ModelRun] = {}  # ModelRun.key -> the latest run of a model on a series
        self._undo: list[tuple[str, str, ReviewedFinding | None, ReviewedFinding | None]] = []
        self._redo: list[tuple[str, str, ReviewedFinding | None, ReviewedFinding | None]] = []

    # ---- reading -------------------------------------------------------------------------
    def findings(self) -> list[ReviewedFinding]:
        return list(self.items.values())

    def accepted_unseen(self) -> list[ReviewedFinding]:
        """Accepted findings no reader has seen (accept_unseen)."""
        return [item for item in self.items.values() if item.in_report and item.accepted_unseen_by]

    def accepted(self) -> list[Finding]:
        """The findings the reader accepted (edited ones as edited), in list order."""
        return [item.current for item in self.items.values() if item.in_report]

    def progress(self) -> tuple[int, int]:
        """(reviewed, total): "3 of 5 reviewed"."""
        return sum(i.status is not ReviewStatus.UNREVIEWED for i in self.items.values()), len(self.items)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def snapshot(self) -> Review:
        """A copy to read elsewhere (a worker writing the DICOM results): no audit log, no history."""
        copied = Review(self.reader)
        copied.items, copied.model_runs = copy.deepcopy(self.items), dict(self.model_runs)
        return copied

    # ---- model results ----------------------------------------------------------------------
    def add_model_findings(self, findings: list[Finding]) -> None:
        """A model's findings for one series. A re-run replaces that model's unreviewed findings
        on the series; the ones the reader already decided on stay as decided."""
        for finding in findings:
            self._drop_unreviewed(finding.model_id, finding.series_instance_uid)
        for finding in findings:
            if finding.id not in self.items:
                self.items[finding.id] = ReviewedFinding(finding)
                self._log("ai-finding", finding.id, None, self.items[finding.id], finding.model_version)

    def record_model_run(self, run: ModelRun, findings: list[Finding] | None = None) -> None:
        """What a model did with a series, and its findings when it ran. The record replaces that
        model's unreviewed findings on the series: none stay from an earlier run when the input is
        now refused or nothing is found, or when the card no longer admits the series. A
        not-applicable record never replaces a run the reader made by hand."""
        earlier = self.model_runs.get(run.key)
        if run.outcome is RunOutcome.NOT_APPLICABLE and earlier is not None and (
                earlier == run or earlier.outcome is not RunOutcome.NOT_APPLICABLE):
            return  # reopening a series says nothing new; a run the reader made by hand stays on record
        # unreviewed findings of an earlier run (or of an older card that admitted this series) go
        self._drop_unreviewed(run.model_id, run.series_instance_uid)
        self.model_runs[run.key] = run
        if run.outcome is not RunOutcome.FINDINGS and self.audit is not None:
            self.audit.record(self.reader, f"ai-{run.outcome.value.replace('_', '-')}", run.key, None, run.to_dict(),
                              run.model_version)
        self.add_model_findings(list(findings or []))

    def withheld_runs(self) -> list[ModelRun]:
        """The runs that show no findings for their series, with why."""
        return [r for r in self.model_runs.values() if r.withheld]

    # ---- the reader's actions (undoable, audited) -------------------------------------------------
    def accept(self, finding_id: str) -> None:
        item = self._item(finding_id)
        status = ReviewStatus.EDITED if item.edited else ReviewStatus.ACCEPTED
        self._change("accept", finding_id, replace(copy.deepcopy(item), status=status, accepted_unseen_by=""))

    def accept_unseen(self, finding_id: str, by: str) -> None:
        """Accept without a reader seeing the finding (a batch rule such as --accept-all); the
        report says so, and a reader's later decision replaces it."""
        if not by.strip():
            raise ValueError("an acceptance without review must name who made it")
        item = self._item(finding_id)
        self._change("accept-unseen", finding_id,
                     replace(copy.deepcopy(item), status=ReviewStatus.ACCEPTED, accepted_unseen_by=by))

    def reject(self, finding_id: str) -> None:
        self._change("reject", finding_id, replace(copy.deepcopy(self._item(finding_id)), status=ReviewStatus.REJECTED,
                                                   accepted_unseen_by=""))

    def edit(self, finding_id: str, *, finding_type: Code | None = None, measurements: dict[str, float] | None = None,
             location: dict[str, str] | None = None, attributes: dict[str, str] | None = None,
             note: str | None = None) -> None:
        """Change what the reader changed (the rest stays as it is); an edit is an acceptance."""
        item = copy.deepcopy(self._item(finding_id))
        current = item.current
        edited = replace(
            current,
            finding_type=finding_type or current.finding_type,
            measurements={**current.measurements, **(measurements or {})},
            location={**current.location, **(location or {})},
            attributes={**current.attributes, **(attributes or {})},
        )
        edited.check_numbers()
        item.edited = None if edited == item.original else edited
        item.note = item.note if note is None else note
        item.status = ReviewStatus.EDITED if item.edited or item.note else ReviewStatus.ACCEPTED
        item.accepted_unseen_by = ""
        self._change("edit", finding_id, item)

    def add_manual(self, finding: Finding) -> None:
        """A reader's own finding (a placed marker, a promoted ruler or ROI): accepted as made."""
        if finding.id in self.items:
            raise ValueError(f"a finding with id {finding.id} already exists")
        finding.check_numbers()
        self._change("add", finding.id, ReviewedFinding(finding, ReviewStatus.ACCEPTED))

    def undo(self) -> str | None:
        """Undo the last action; returns the finding id it touched."""
        if not self._undo:
            return None
        action, finding_id, before, after = self._undo.pop()
        self._set(finding_id, before)
        self._redo.append((action, finding_id, before, after))
        self._log(f"undo-{action}", finding_id, after, before)
        return finding_id

    def redo(self) -> str | None:
        if not self._redo:
            return None
        action, finding_id, before, after = self._redo.pop()
        self._set(finding_id, after)
        self._undo.append((action, finding_id, before, after))
        self._log(f"redo-{action}", finding_id, before, after)
        return finding_id

    # ---- persistence ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"reader": self.reader, "findings": [item.to_dict() for item in self.items.values()],
                "model_runs": [run.to_dict() for run in self.model_runs.values()]}

    def restore(self, data: dict) -> None:
        """Load saved review state (the undo history starts empty)."""
        self.items = {}
        for entry in data.get("findings", []):
            item = ReviewedFinding.from_dict(entry)
            self.items[item.original.id] = item
        runs = [ModelRun.from_dict(r) for r in data.get("model_runs", [])]
        self.model_runs = {r.key: r for r in runs}
        self._undo.clear()
        self._redo.clear()

    # ---- internals ------------------------------------------------------------------------------
    def _drop_unreviewed(self, model_id: str, series_instance_uid: str) -> None:
        """Forget a model's unreviewed findings on a series (the reader's decisions stay)."""
        stale = [k for k, item in self.items.items()
                 if item.original.model_id == model_id and item.status is ReviewStatus.UNREVIEWED
                 and item.original.series_instance_uid == series_instance_uid]
        for key in stale:
            del self.items[key]

    def _item(self, finding_id: str) -> ReviewedFinding:
        try:
            return self.items[finding_id]
        except KeyError:
            raise KeyError(f"no finding with id {finding_id}") from None

    def _set(self, finding_id: str, item: ReviewedFinding | None) -> None:
        if item is None:
            self.items.pop(finding_id, None)
        else:
            self.items[finding_id] = copy.deepcopy(item)

    def _change(self, action: str, finding_id: str, after: ReviewedFinding) -> None:
        before = copy.deepcopy(self.items.get(finding_id))
        self._set(finding_id, after)
        self._undo.append((action, finding_id, before, copy.deepcopy(after)))
        self._redo.clear()
        self._log(action, finding_id, before, after)

    def _log(self, action: str, finding_id: str, before: ReviewedFinding | None, after: ReviewedFinding | None,
             model_version: str | None = None) -> None:
        if self.audit is None:
            return
        reference = after or before
        self.audit.record(self.reader, action, finding_id, before.to_dict() if before else None,
                          after.to_dict() if after else None,
                          model_version or (reference.original.model_version if reference else None))
