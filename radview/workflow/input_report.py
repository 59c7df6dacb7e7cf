"""`radview inputs PATH`: for every series, each model's input rules and input check, measured.

What a site's IT team or a reader asks before trusting a model with their images: was it made
for this series (the card's rules), and are the images like its training data (the learned
check's distances against the card's limits)? The check is measured even where the rules
exclude the series, so the answer is complete; no findings are made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from radview.ai.input_spec import describe, input_mismatches
from radview.core.progress import CancelToken, ProgressCallback, report
from radview.workflow.model_selection import available_models, volume_label


@dataclass
class InputVerdict:
    """One model on one series."""

    series: str
    model: str
    rules: str  # "made for this series", or the rules it breaks
    check_passed: bool
    check: str  # the measured reason

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def input_report(path: Path, model_folders: list[str] | None = None, device: str = "auto",
                 progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> list[InputVerdict]:
    """The verdicts for the largest stack of every series under `path`."""
    from radview.ai.engine import check_input
    from radview.dicom.load import LoadError, load_stack
    from radview.dicom.scan import scan_path
    from radview.dicom.stacks import split_series

    cards = available_models(model_folders)
    series = scan_path(path, cancel=cancel).all_series()
    verdicts = []
    for n, one in enumerate(series):
        stacks = split_series(one)
        if not stacks:
            continue
        try:
            volume = load_stack(max(stacks, key=lambda s: len(s.images)), cancel=cancel)
        except LoadError as error:  # one bad series: said, and the others are still checked
            if len(series) == 1:
                raise  # the only series: the loader's message is the answer
            label = f"series {one.series_number} ({one.description or one.modality}) [{one.modality}]"
            verdicts += [InputVerdict(label, f"{card.id} {card.version}", "not checked", False,
                                      f"the series cannot be loaded: {error}") for card in cards]
            continue
        for card in cards:
            mismatches = input_mismatches(card, volume)
            check = check_input(card, volume, device)
            verdicts.append(InputVerdict(f"{volume_label(volume)} [{volume.modality}]", f"{card.id} {card.version}",
                                         describe(mismatches) if mismatches else "made for this series",
                                         check.passed, check.reason))
        report(progress, n + 1, len(series), f"series {n + 1} of {len(series)} checked")
    return verdicts
