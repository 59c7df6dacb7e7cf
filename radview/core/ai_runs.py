"""What each model did with each series: showed findings, withheld them, or was not run.

A reader must see why a series has no AI findings: the model was not made for it (its card's
input rules), or the image failed the model's input check (unlike its training data), and
either way that is not a negative result. Plain data, kept with the review, written into
findings.json, the draft report, the PDF and the SR.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum

class RunOutcome(str, Enum):
    FINDINGS = "findings"  # the model ran and its input check passed (it may have found nothing)
    INPUT_REFUSED = "input_refused"  # the image failed the input check: findings withheld
    NOT_APPLICABLE = "not_applicable"  # the card's input rules exclude the series: not run automatically


@dataclass(frozen=True)
class ModelRun:
    """One model on one series. reason: the measured reason in words (input check, or the
    rules the series breaks). by_hand: the reader ran it although the rules excluded the series."""

    model_id: str
    model_version: str
    series_instance_uid: str
    series_label: str  # "series 3 (AX FLAIR)"
    outcome: RunOutcome
    reason: str
    finding_count: int = 0
    by_hand: bool = False
    score: float | None = None  # the input check's feature distance
    threshold: float | None = None  # the card's limit for it
    profile_score: float | None = None  # the input check's intensity-profile distance
    profile_threshold: float | None = None  # the card's limit for it
    input_check: bool = True  # False: the model has no input check (an imported bundle); `reason` says why

    @property
    def key(self) -> str:
        """A re-run of the same model on the same series replaces the earlier record."""
        return f"{self.model_id}|{self.series_instance_uid}"

    @property
    def withheld(self) -> bool:
        """True when no finding of this model is shown for this series."""
        return self.outcome is not RunOutcome.FINDINGS

    def statement(self) -> str:
        """One sentence for the window, the report and the SR."""
        model = f"{self.model_id} {self.model_version}"
        if self.outcome is RunOutcome.NOT_APPLICABLE:
            return f"{model} was not run on {self.series_label}: not made for this series ({self.reason})."
        if self.outcome is RunOutcome.INPUT_REFUSED:
            return f"{model} on {self.series_label}: {self.reason}."
        hand = f" Run by hand by the reader although {self.reason}." if self.by_hand else ""
        if not self.input_check:
            return f"{model} on {self.series_label}: {self.finding_count} finding(s); {self.reason}.{hand}"
        return f"{model} on {self.series_label}: {self.finding_count} finding(s); the input check passed.{hand}"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        data["statement"] = self.statement()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelRun:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["outcome"] = RunOutcome(fields["outcome"])
        return cls(**fields)


def series_label(series_number: int | None, description: str) -> str:
    """"series 3 (AX FLAIR)": how the report names a series."""
    number = "?" if series_number is None else str(series_number)
    return f"series {number}" + (f" ({description})" if description else "")
