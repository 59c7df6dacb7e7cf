"""The reading worklist and its AI triage order.

Triage puts studies with positive AI findings before the others, and keeps a promise the
other way round: a study that has waited `max_wait_minutes` moves ahead of every positive one
that arrived after it, so no study waits for ever behind positives. Triage only reorders; it
never hides a study, and an AI-negative study is not a normal one (README: Worklist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from radview.core.pacs import StudyRecord

OVERDUE, POSITIVE, OTHER = 0, 1, 2


@dataclass
class WorklistEntry:
    """One study waiting to be read."""

    record: StudyRecord
    arrived_utc: datetime  # when it reached the cache (or was acquired, for a PACS-only study)
    ai_positive: bool | None = None  # None: no model has run on it yet
    ai_findings: int = 0  # model findings not rejected
    signed: bool = False
    folder: str = ""  # the local copy; "" = only on the PACS named in record.source
    ai_refused: int = 0  # series whose images failed a model's input check: no AI result, not a negative
    ai_ran: int = 0  # model runs whose input check passed (with or without findings)

    @property
    def ai_summary(self) -> str:
        """The worklist's AI column: a study whose images the models refused is not called negative."""
        if self.ai_positive is None:
            return "not run"
        if self.ai_positive:
            return f"{self.ai_findings} finding(s)"
        if self.ai_refused:
            return "no AI result (images unlike the training data)"
        return "none" if self.ai_ran else "no AI result (no model made for these series)"

    def waited_minutes(self, now_utc: datetime) -> float:
        return max(0.0, (now_utc - self.arrived_utc).total_seconds() / 60)

    def tier(self, now_utc: datetime, max_wait_minutes: float) -> int:
        """OVERDUE (waited past the limit), POSITIVE (AI findings), or OTHER."""
        if self.waited_minutes(now_utc) >= max_wait_minutes:
            return OVERDUE
        return POSITIVE if self.ai_positive else OTHER


def triage_order(entries: list[WorklistEntry], max_wait_minutes: float,
                 now_utc: datetime | None = None) -> list[WorklistEntry]:
    """Unsigned before signed; then overdue, AI-positive, the rest; oldest first within each."""
    now_utc = now_utc or datetime.now(timezone.utc)
    return sorted(entries, key=lambda e: (e.signed, e.tier(now_utc, max_wait_minutes), e.arrived_utc))


def study_datetime_utc(record: StudyRecord) -> datetime | None:
    """StudyDate + StudyTime as a UTC-naive-assumed time (DICOM carries no zone by default)."""
    try:
        text = (record.study_date + (record.study_time.split(".")[0] or "000000").ljust(6, "0"))[:14]
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
