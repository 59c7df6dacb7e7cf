"""Run a model package on a volume: device, preprocessing, inference, findings, with timings.

`run_model` is the one entry point the window, `radview analyze` and the benchmark use. It
reports progress, stops at cancel between batches, and on a GPU that runs out of memory retries
with a smaller batch, then on the CPU, and says so in the result's notes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from radview.ai.blas_threads import one_blas_thread
from radview.ai.card import ModelCard
from radview.ai.card_grid import labels_on_volume, on_card_grid
from radview.ai.conformance import UNLIKE_TRAINING, ConformanceResult, check_conformance, judge, screen_input
from radview.ai.conformance_capture import FeatureCapture, reads_inference_pass
from radview.ai.encoder_features import layer_features
from radview.ai.input_spec import Mismatch
from radview.ai.nodules import nodule_findings
from radview.ai.postprocess import brain_tumour_findings
from radview.ai.radiograph import radiograph_findings
from radview.ai.predict import SliceInputs, predict_labels
from radview.ai.registry import load_network
from radview.ai.warmup import warm_up
from radview.core.findings import Finding
from radview.core.progress import CancelToken, ProgressCallback
from radview.core.volume import Volume

log = logging.getLogger("radview.ai")
_networks: dict[tuple[str, str, str], object] = {}
_device_lock = threading.Lock()  # one inference at a time per process (docs/architecture.md: per device)


@dataclass
class ModelResult:
    """What one model found on one series."""

    card: ModelCard
    findings: list[Finding]
    labels: np.ndarray  # (slices, rows, cols) uint8 on the volume's grid; finding i has label i
    device: str
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)  # image-level outputs (nodule present)
    conformance: ConformanceResult | None = None  # the input check; failed: no findings
    mismatches: list[Mismatch] = field(default_factory=list)  # run by hand on a series it was not made for

    @property
    def input_refused(self) -> bool:
        """True when the input failed the card's conformance check: the findings are withheld."""
        return self.conformance is not None and not self.conformance.passed


def _without_scores(postprocess):
    return lambda *args: (*postprocess(*args), {})


# the card's "postprocessing" -> (findings, label map, image-level scores)
POSTPROCESSORS = {"brain_tumour": _without_scores(brain_tumour_findings), "lung_nodules_ct": _without_scores(nodule_findings),
                  "lung_nodules_radiograph": radiograph_findings}


def choose_device(setting: str = "auto") -> str:
    """"cuda" when asked or available (setting "auto"), else "cpu"."""
    import torch

    if setting == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if setting == "cuda":
        log.warning("CUDA was requested but is not available; using the CPU")
    return "cpu"


def _network(card: ModelCard, device: str):
    key = (card.id, card.weights_sha256, device)
    if key not in _networks:
        _networks[key] = load_network(card, device)
    return _networks[key]


def run_model(
    card: ModelCard,
    volume: Volume,
    device_setting: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    batch_size: int = 8,
    cpu_threads: int | None = None,
    mismatches: list[Mismatch] | None = None,
) -> ModelResult:
    """Run `card`'s model on `volume`; the findings carry the model id, version and codes.

    The card's input-conformance check runs on a sample of slices: an image unlike the training
    data gets no findings (an all-zero label map) and the result says why. Its cheap screen runs
    first; its encoder features come from the inference pass itself where that pass computes
    them unchanged (radview.ai.conformance_capture), else from a pass of its own before it.
    cpu_threads: torch's thread count on the CPU (the window leaves itself a core).
    mismatches: the card's input rules the series breaks, when the reader ran the model by hand.
    """
    warm_up()  # waits for a warm-up importing in another thread (radview.ai.warmup)
    with one_blas_thread():
        return _run_model(card, volume, device_setting, progress, cancel, batch_size, cpu_threads, mismatches)


def _run_model(card: ModelCard, volume: Volume, device_setting: str, progress: ProgressCallback | None,
               cancel: CancelToken | None, batch_size: int, cpu_threads: int | None,
               mismatches: list[Mismatch] | None) -> ModelResult:
    import torch

    device = choose_device(device_setting)
    if cpu_threads:
        torch.set_num_threads(cpu_threads)
    notes: list[str] = []
    timings: dict[str, float] = {}
    if card.is_bundle:  # an imported MONAI bundle: its own steps (radview.ai.bundle_engine)
        return _run_bundle(card, volume, device, progress, cancel, mismatches)
    with _device_lock:
        start = time.perf_counter()
        conformance = _cannot_prepare(card, volume)
        grid = on_card_grid(card, volume) if conformance is None else volume
        inputs = SliceInputs(card, grid.voxels, grid.display_inverted)
        network = _network(card, device)
        timings["preprocess_s"] = time.perf_counter() - start
        start = time.perf_counter()
        capture = None
        if conformance is None:
            screened = screen_input(card, inputs, grid.known_pixel_spacing_mm)
            conformance = screened.refused
        if conformance is None and reads_inference_pass(card, inputs, device):
            capture = FeatureCapture(network, card, screened.indices, grid.shape[1:])  # judged after the pass, from its features
        elif conformance is None:
            conformance = judge(card, inputs, screened, layer_features(network, card, card.conformance["layers"], inputs,
                                                                       screened.indices, device))
        timings["input_check_s"] = time.perf_counter() - start
        if conformance is not None and not conformance.passed:
            return _withheld(card, volume, device, timings, notes, conformance, mismatches)
        start = time.perf_counter()
        try:
            while True:
                try:
                    autocast = torch.float16 if device == "cuda" else None
                    labels, confidence = predict_labels(network, card, inputs, device, batch_size, progress, cancel,
                                                        autocast, capture)
                    break
                except torch.cuda.OutOfMemoryError:
                    torch.cuda.empty_cache()
                    if batch_size > 1:
                        batch_size //= 2
                        notes.append(f"GPU out of memory: retried with batch {batch_size}")
                    else:
                        device = "cpu"
                        network = _network(card, device)
                        notes.append("GPU out of memory even with batch 1: ran on the CPU instead")
        finally:
            if capture is not None:
                capture.close()
        timings["inference_s"] = time.perf_counter() - start
        if capture is not None:
            start = time.perf_counter()
            conformance = judge(card, inputs, screened, capture.features())
            timings["input_check_s"] += time.perf_counter() - start
            if not conformance.passed:  # the pass is done, but its labels are not shown
                return _withheld(card, volume, device, timings, notes, conformance, mismatches)
    start = time.perf_counter()
    # measured on the card's grid, as the model was trained and evaluated; positions are in mm
    findings, label_map, scores = POSTPROCESSORS[card.postprocessing](card, grid, labels, confidence)
    label_map = labels_on_volume(label_map, grid, volume)
    timings["postprocess_s"] = time.perf_counter() - start
    return ModelResult(card, findings, label_map, device, _rounded(timings), notes, scores, conformance,
                       list(mismatches or []))


def _withheld(card: ModelCard, volume: Volume, device: str, timings: dict[str, float], notes: list[str],
              conformance: ConformanceResult, mismatches: list[Mismatch] | None) -> ModelResult:
    """The result of a run whose input failed the check: no findings, an all-zero label map."""
    log.info("%s withheld on series %s: %s", card.id, volume.series_instance_uid, conformance.reason)
    empty = np.zeros(volume.shape, np.uint8)
    return ModelResult(card, [], empty, device, _rounded(timings), notes, {}, conformance, list(mismatches or []))


def _run_bundle(card: ModelCard, volume: Volume, device: str, progress: ProgressCallback | None,
                cancel: CancelToken | None, mismatches: list[Mismatch] | None) -> ModelResult:
    """An imported bundle's run: no input check exists for it, and the result says so."""
    from radview.ai.bundle_engine import no_input_check, run_bundle

    conformance = _cannot_prepare(card, volume)
    if conformance is not None:
        return _withheld(card, volume, device, {}, [], conformance, mismatches)
    with _device_lock:
        findings, label_map, timings = run_bundle(card, _network(card, device), volume, device, progress, cancel)
    return ModelResult(card, findings, label_map, device, _rounded(timings), [], {}, no_input_check(card),
                       list(mismatches or []))


def check_input(card: ModelCard, volume: Volume, device_setting: str = "auto") -> ConformanceResult:
    """The card's input check alone on `volume` (no inference): `radview inputs` reports it."""
    if card.is_bundle:
        from radview.ai.bundle_engine import no_input_check

        return _cannot_prepare(card, volume) or no_input_check(card)
    warm_up()
    device = choose_device(device_setting)
    with one_blas_thread(), _device_lock:
        refused = _cannot_prepare(card, volume)
        if refused is not None:
            return refused
        grid = on_card_grid(card, volume)
        inputs = SliceInputs(card, grid.voxels, grid.display_inverted)
        return check_conformance(_network(card, device), card, inputs, grid.known_pixel_spacing_mm, device)


def _cannot_prepare(card: ModelCard, volume: Volume) -> ConformanceResult | None:
    """Images the model's input cannot be made from, refused even when the reader runs it by
    hand: colour images, and for a model that resamples to a pixel spacing, an image whose
    spacing is not known (ImagerPixelSpacing 0 or absent)."""
    if volume.is_rgb:
        why = "the image is in colour; the model reads greyscale images"
    elif card.raw["input"].get("pixel_spacing_mm") and volume.known_pixel_spacing_mm is None:
        why = (f"the image has no pixel spacing, so it cannot be scaled to the {card.raw['input']['pixel_spacing_mm']} mm "
               "grid the model works on")
    else:
        return None
    return ConformanceResult(False, None, float(card.conformance.get("threshold", 0.0)), 0, f"{UNLIKE_TRAINING} ({why})")


def _rounded(timings: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in timings.items()}
