"""Run an imported bundle's model on a volume: its own preprocessing, inferer and postprocessing,
built from the card's checked steps, with the prediction mapped back to the series' grid.

radview.ai.engine.run_model hands bundle cards here, so the window, `radview analyze` and
`radview evaluate` run them as they run the shipped models: one inference at a time, progress,
cancel between sliding windows, findings with the model's id and version. The volume enters as
MONAI would load it (a channel-first (1, X, Y, Z) MetaTensor with its RAS affine, from the
series' LPS geometry), and every spatial step is inverted with MONAI's own inverse, so the
labels lie voxel for voxel on the series. There is no input-conformance check (the result says so).
"""

from __future__ import annotations

import math
import time

import numpy as np

from radview.ai.bundle_allowlist import network_spec
from radview.ai.bundle_config import BundleRefused
from radview.ai.bundle_detection import build_detector, checked_settings, detect
from radview.ai.bundle_findings import detection_findings, segmentation_findings
from radview.ai.bundle_transforms import build_transform, checked_steps
from radview.ai.card import CardError, ModelCard
from radview.ai.conformance import ConformanceResult
from radview.core.progress import CancelToken, ProgressCallback, report
from radview.core.volume import Volume

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def no_input_check(card: ModelCard) -> ConformanceResult:
    """The run's input-check record: passed (nothing withheld), unscored, and saying why."""
    return ConformanceResult(True, None, 0.0, 0, str(card.conformance.get("reason", "no input check is available")))


def checked_pipeline(card: ModelCard) -> dict:
    """The card's bundle section, checked again (the card is untrusted input); CardError if not."""
    section = card.raw.get("bundle", {})
    try:
        network_spec(card.architecture_args, "architecture.args")  # the network, on the allow-list
        pipeline = {"preprocessing": checked_steps(section.get("preprocessing", []), "bundle.preprocessing"),
                    "postprocessing": checked_steps(section.get("postprocessing", []), "bundle.postprocessing"),
                    "inferer": section.get("inferer", {})}
        if card.task == "detection":
            pipeline["detector"] = checked_settings(section.get("detector"), "bundle.detector")
        elif pipeline["inferer"].get("kind") not in ("sliding_window", "simple"):
            raise BundleRefused("bundle.inferer", pipeline["inferer"], "not a sliding-window or simple inferer")
    except BundleRefused as exc:
        raise CardError(f"{card.path}: {exc}") from exc
    return pipeline


def volume_image(volume: Volume):
    """The series as MONAI loads an image: (1, X=cols, Y=rows, Z=slices) float32 with its RAS affine."""
    import torch
    from monai.data import MetaTensor

    voxels = np.ascontiguousarray(volume.voxels.transpose(2, 1, 0)[None], dtype=np.float32)
    return MetaTensor(torch.from_numpy(voxels), affine=torch.from_numpy(LPS_TO_RAS @ volume.affine_lps))


def _windows(shape, roi, overlap: float, batch: int) -> int:
    """How many network calls a sliding window makes over `shape` (for progress)."""
    count = 1
    for size, window in zip(shape, roi, strict=False):
        window = int(window) if int(window) > 0 else int(size)
        step = max(1, int(window * (1 - overlap)))
        count *= 1 if size <= window else math.ceil((size - window) / step) + 1
    return max(1, math.ceil(count / max(1, batch)))


def _predict(card: ModelCard, network, image, inferer: dict, device: str, progress: ProgressCallback | None,
             cancel: CancelToken | None):
    """(C, X, Y, Z) float32 network output for the preprocessed image."""
    import torch
    from monai.inferers import sliding_window_inference

    batch = image.as_tensor()[None].to(device)
    if inferer["kind"] == "simple":
        with torch.inference_mode():
            return network(batch)[0].float().cpu()
    roi = inferer["roi_size"] if isinstance(inferer["roi_size"], list) else [inferer["roi_size"]] * 3
    sw_batch = int(inferer.get("sw_batch_size", 1))
    total, calls = _windows(batch.shape[2:], roi, float(inferer.get("overlap", 0.25)), sw_batch), [0]

    def predictor(windows):
        if cancel is not None:
            cancel.raise_if_cancelled()  # a run stops within one batch of windows
        calls[0] += 1
        report(progress, min(calls[0], total), total, f"{card.id}: windows")
        return network(windows)

    options = {k: inferer[k] for k in ("overlap", "mode", "sigma_scale", "padding_mode", "cval") if k in inferer}
    with torch.inference_mode():
        return sliding_window_inference(batch, roi, sw_batch, predictor, **options)[0].float().cpu()


def _on_volume(pre, image, tensor) -> np.ndarray:
    """A (C, X, Y, Z) tensor on the preprocessed image's grid, inverted to the series' (C, slices, rows, cols)."""
    from monai.data import MetaTensor

    meta = MetaTensor(tensor, meta=dict(image.meta), applied_operations=list(image.applied_operations))  # meta holds the affine
    back = pre.inverse(meta) if len(image.applied_operations) else meta
    return np.asarray(back.as_tensor().numpy()).transpose(0, 3, 2, 1)


def segment(card: ModelCard, pipeline: dict, network, volume: Volume, device: str, progress: ProgressCallback | None,
            cancel: CancelToken | None) -> tuple[np.ndarray, np.ndarray]:
    """(labels (slices, rows, cols) uint8 of output values, confidence float16) on the series' grid."""
    import torch
    from monai.transforms import Compose

    pre = Compose([build_transform(s) for s in pipeline["preprocessing"]])
    image = pre(volume_image(volume))
    logits = _predict(card, network, image, pipeline["inferer"], device, progress, cancel)
    probabilities = None
    result = logits
    for step in pipeline["postprocessing"]:
        result = build_transform(step)(result)
        if step["transform"] == "Activations":
            probabilities = torch.as_tensor(result).clone()
    if probabilities is None:  # the bundle leaves logits: confidence is still a probability
        probabilities = torch.softmax(logits, 0) if logits.shape[0] > 1 else torch.sigmoid(logits)
    confidence = _on_volume(pre, image, torch.as_tensor(probabilities).float())
    confidence = confidence.max(axis=0) if confidence.shape[0] > 1 else confidence[0]
    final = _on_volume(pre, image, torch.as_tensor(result).float())
    labels = np.rint(final[0]) if final.shape[0] == 1 else np.argmax(final, axis=0)
    return np.clip(labels, 0, 255).astype(np.uint8), confidence.astype(np.float16)


def run_bundle(card: ModelCard, network, volume: Volume, device: str, progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> tuple[list, np.ndarray, dict[str, float]]:
    """(findings, label map with finding i as label i, timings) of an imported model on `volume`."""
    from monai.transforms import Compose

    pipeline = checked_pipeline(card)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if card.task == "detection":
        image = Compose([build_transform(s) for s in pipeline["preprocessing"]])(volume_image(volume))
        if cancel is not None:
            cancel.raise_if_cancelled()
        report(progress, 0, 1, f"{card.id}: detecting")
        boxes, scores, classes = detect(build_detector(network, pipeline["detector"], device), image.to(device),
                                        pipeline["detector"])
        report(progress, 1, 1, f"{card.id}: detecting")
        timings["inference_s"] = time.perf_counter() - start
        start = time.perf_counter()
        findings, label_map = detection_findings(card, volume, boxes, scores, classes, np.asarray(image.affine, float))
    else:
        labels, confidence = segment(card, pipeline, network, volume, device, progress, cancel)
        timings["inference_s"] = time.perf_counter() - start
        start = time.perf_counter()
        findings, label_map = segmentation_findings(card, volume, labels, confidence)
    timings["postprocess_s"] = time.perf_counter() - start
    return findings, label_map, timings
