"""Model runs as frozen requests, and what a finished run shows.

A ModelRequest names one model on one series (and the device). Its key is the model and the
series: a newer request with the same key makes every older one stale, and a stale result is
dropped by that one rule (radview.workflow.session.StudySession.apply). The computation itself
(`compute`) touches no session state, so a worker thread runs it while the reader goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from radview.ai.card import ModelCard
from radview.ai.input_spec import Mismatch
from radview.core.ai_runs import ModelRun
from radview.core.findings import describe_size
from radview.core.overlays import LabelLayer, LabelStyle, Marker, MarkerLayer
from radview.core.progress import CancelToken, ProgressCallback
from radview.core.volume import Volume

MASK_OPACITY = 0.45
DEFAULT_FLAG_MM = 10.0  # a flag's size when a finding has none (an image-level finding)


@dataclass(frozen=True)
class ModelRequest:
    """One model on one series, as asked. mismatches: the card's input rules the series breaks
    (non-empty only for a run the reader asked for by hand)."""

    card: ModelCard = field(compare=False)
    series_instance_uid: str
    device: str = "auto"
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def model_id(self) -> str:
        return self.card.id

    @property
    def key(self) -> str:
        """A later request with the same key replaces this one's result (and layers)."""
        return f"{self.card.id}|{self.series_instance_uid}"  # the same key as ModelRun.key


@dataclass
class ModelOutput:
    """A finished request: its record, the engine's result, and the layers the views show for it
    (none when the input was refused)."""

    request: ModelRequest
    run: ModelRun
    result: object  # radview.ai.engine.ModelResult
    layers: list[LabelLayer | MarkerLayer] = field(default_factory=list)


def compute(request: ModelRequest, volume: Volume, progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None, cpu_threads: int | None = None):
    """Run the request's model on `volume` (any thread); returns a radview.ai.engine.ModelResult."""
    from radview.ai.engine import run_model

    if volume.series_instance_uid != request.series_instance_uid:
        raise ValueError(f"the request is for series {request.series_instance_uid}, not {volume.series_instance_uid}")
    return run_model(request.card, volume, request.device, progress, cancel, cpu_threads=cpu_threads,
                     mismatches=list(request.mismatches) or None)


def result_layers(result, volume: Volume) -> list[LabelLayer | MarkerLayer]:
    """The mask layer and the flags of a model result on `volume` (none when the input was refused)."""
    if result.input_refused:
        return []
    card, uid = result.card, volume.series_instance_uid
    colors = {o.code[0]: o.color for o in card.outputs}
    styles = {f.mask_label: LabelStyle(f"{f.finding_type.meaning} {f.mask_label}", colors[f.finding_type.value])
              for f in result.findings if f.mask_label}
    markers = [Marker(f.id, np.array(f.centre_lps_mm), f.size_mm or DEFAULT_FLAG_MM,
                      f"{f.finding_type.meaning} {describe_size(f)}") for f in result.findings]
    return [LabelLayer(f"{card.id} {card.version} mask", uid, result.labels, styles, MASK_OPACITY),
            MarkerLayer(f"{card.id} {card.version} flags", uid, markers)]
