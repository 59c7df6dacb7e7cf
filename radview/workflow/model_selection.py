"""Which models run on a series, and what each run is recorded as: one rule for every driver.

A model runs automatically only on a series its card's input rules admit
(radview.ai.input_spec); the reader may run it by hand on another of the modality it was made for,
after a warning naming the mismatch, never on another modality. Every run passes the card's
input-conformance check first (radview.ai.engine).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from radview.ai.card import ModelCard
from radview.ai.input_spec import Mismatch, describe, input_mismatches
from radview.core.ai_runs import ModelRun, RunOutcome, series_label
from radview.core.volume import Volume

# describe: the window words a mismatch as the report does, through the workflow
__all__ = ["SeriesModels", "available_models", "describe", "find_model_cards", "models_for", "not_applicable_run",
           "run_record", "runnable_by_hand", "volume_label", "warm_up_ai"]


@dataclass
class SeriesModels:
    """The models found, sorted for one series: those made for it, and the others with why not."""

    applicable: list[ModelCard] = field(default_factory=list)
    excluded: list[tuple[ModelCard, list[Mismatch]]] = field(default_factory=list)

    def near_misses(self) -> list[tuple[ModelCard, list[Mismatch]]]:
        """Excluded models of the series' own modality: the ones a reader would expect to run,
        so the report says why they did not (a brain model on a CT is not worth a line)."""
        return [(card, found) for card, found in self.excluded if runnable_by_hand(found)]


def runnable_by_hand(mismatches: list[Mismatch]) -> bool:
    """Whether the reader may run a model by hand on a series that breaks these rules of its card:
    yes unless the series is of another modality. Its values are then another physical quantity
    (a CT's HU through a model of MR signal), and the input check cannot be relied on to withhold
    the findings: mr-brain-tumor's check passes a chest CT phantom (feature distance 15.5, its
    limit 25.6) and would show 18 findings on it."""
    return not any(m.what == "modality" for m in mismatches)


def available_models(model_folders: list[str] | None = None) -> list[ModelCard]:
    """The usable model packages (the shipped ones and the settings' folders)."""
    return find_model_cards(model_folders)[0]


def models_for(cards: list[ModelCard], volume: Volume) -> SeriesModels:
    """Sort `cards` by whether their input rules admit `volume`."""
    sorted_models = SeriesModels()
    for card in cards:
        found = input_mismatches(card, volume)
        if found:
            sorted_models.excluded.append((card, found))
        else:
            sorted_models.applicable.append(card)
    return sorted_models


def volume_label(volume: Volume) -> str:
    """How the report names the series a volume comes from."""
    return series_label(volume.series_number, volume.series_description)


def not_applicable_run(card: ModelCard, volume: Volume, mismatches: list[Mismatch]) -> ModelRun:
    """The record of a model not run on a series, with the rules it breaks."""
    return ModelRun(card.id, card.version, volume.series_instance_uid, volume_label(volume),
                    RunOutcome.NOT_APPLICABLE, describe(mismatches))


def run_record(result, volume: Volume) -> ModelRun:
    """The record of a finished run (a radview.ai.engine.ModelResult) on `volume`."""
    card, check = result.card, result.conformance
    measured = {} if check is None else dict(score=check.score, threshold=check.threshold,
                                             profile_score=check.profile_score, profile_threshold=check.profile_threshold)
    if result.input_refused:
        return ModelRun(card.id, card.version, volume.series_instance_uid, volume_label(volume),
                        RunOutcome.INPUT_REFUSED, check.reason, 0, bool(result.mismatches), **measured)
    reason = describe(result.mismatches) if result.mismatches else (check.reason if check else "")
    if not card.has_input_check:  # an imported model: every record says that no input check exists
        reason = check.reason if check else ""
        by_hand = f" (run by hand although {describe(result.mismatches)})" if result.mismatches else ""
        return ModelRun(card.id, card.version, volume.series_instance_uid, volume_label(volume), RunOutcome.FINDINGS,
                        reason + by_hand, len(result.findings), False, input_check=False)
    return ModelRun(card.id, card.version, volume.series_instance_uid, volume_label(volume), RunOutcome.FINDINGS,
                    reason, len(result.findings), bool(result.mismatches), **measured)


def find_model_cards(model_folders: list[str] | None = None) -> tuple[list[ModelCard], list]:
    """The usable model packages, and the refused ones with why (radview.ai.registry.Refusal)."""
    from radview.ai.registry import find_models

    return find_models(model_folders)


def warm_up_ai(model_folders: list[str] | None, device: str, first_start: bool) -> tuple[float, str]:
    """Import the inference stack ahead of the first run (seconds it took); on the first start
    also run one model and say which device the AI uses (else "")."""
    from radview.ai.warmup import warm_up

    seconds = warm_up()
    if not first_start:
        return seconds, ""
    from radview.ai.device_report import check_model_runs, compute_device

    cards, _refused = find_model_cards(model_folders)
    if not cards:
        raise RuntimeError("no model package was found, so the AI cannot run (see radview doctor)")
    _used, run_s = check_model_runs(cards[0], device)
    return seconds, f"AI check passed: {cards[0].id} ran on {compute_device(device).description} in {run_s:.1f} s"
