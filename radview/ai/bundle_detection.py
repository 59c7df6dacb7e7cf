"""An imported detection bundle (MONAI's RetinaNetDetector): its settings read as data, the detector
built from them, and its boxes turned into nodule findings with centre, size and score.

The zoo's detection bundles set the detector up with `$@detector.set_...(...)` calls
(`detector_ops`); these are parsed as MethodCalls (radview.ai.bundle_config) and only the
methods and arguments below are taken. The box selector and sliding window change what the
detector finds; matchers, samplers and losses are for training and are refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from radview.ai.bundle_allowlist import check_literal
from radview.ai.bundle_config import BundleRefused, MethodCall, Resolver, Target

ANCHORS = {"AnchorGeneratorWithAnchorShape": ("feature_map_scales", "base_anchor_shapes", "indexing"),
           "AnchorGenerator": ("sizes", "aspect_ratios", "indexing")}
_ANCHOR_MODULE = "monai.apps.detection.utils.anchor_utils."
DETECTOR_ARGS = ("spatial_dims", "num_classes", "size_divisible")
METHODS = {
    "set_box_selector_parameters": ("score_thresh", "topk_candidates_per_level", "nms_thresh", "detections_per_img",
                                    "apply_sigmoid"),
    "set_sliding_window_inferer": ("roi_size", "sw_batch_size", "overlap", "mode", "sigma_scale", "padding_mode", "cval"),
    "set_box_coder_weights": ("weights",),
}
_IGNORED_METHOD_ARGS = ("device", "sw_device", "progress", "cache_roi_weight_map")
_NAMES_ONLY = ("set_target_keys",)  # which keys the outputs are under: RadView reads the detector's own


def _anchor(value: Any, where: str) -> dict:
    if not isinstance(value, Target):
        raise BundleRefused(where, value, "the anchor generator must be a `_target_` object")
    name = value.name[len(_ANCHOR_MODULE):] if value.name.startswith(_ANCHOR_MODULE) else value.name
    if name not in ANCHORS or value.args:
        raise BundleRefused(f"{where}._target_", value.name, f"not on RadView's allow-list ({', '.join(ANCHORS)})")
    for key in value.kwargs:
        if key not in ANCHORS[name]:
            raise BundleRefused(f"{where}.{key}", value.kwargs[key], f"{name} takes no argument '{key}' on the allow-list")
    return {"class": name, "args": {k: check_literal(v, f"{where}.{k}") for k, v in value.kwargs.items()}}


def detector_settings(resolver: Resolver, config: dict, spec: dict, source: str) -> dict:
    """The detector's settings from the config's `detector`, `anchor_generator` and `detector_ops`."""
    raw = config.get("detector")
    where = f"{source} detector"
    if not isinstance(raw, dict) or raw.get("_target_", "").split(".")[-1] != "RetinaNetDetector":
        raise BundleRefused(where, raw if not isinstance(raw, dict) else raw.get("_target_"),
                            "a detection bundle must define `detector` as a RetinaNetDetector")
    settings: dict[str, Any] = {"spatial_dims": spec["args"].get("spatial_dims", 3),
                                "num_classes": spec["args"].get("num_classes", 1)}
    for key in DETECTOR_ARGS:  # `network` is the imported network; nothing else of the entry is read
        if key in raw:
            settings[key] = check_literal(resolver.resolve(raw[key], f"{where}.{key}"), f"{where}.{key}")
    anchor_source = raw.get("anchor_generator", config.get("anchor_generator"))
    settings["anchor"] = _anchor(resolver.resolve(anchor_source, f"{where}.anchor_generator"), f"{where}.anchor_generator")
    settings["box_selector"], settings["sliding_window"], settings["box_coder"] = {}, {}, {}
    ops = config.get("detector_ops", [])
    for n, op in enumerate(ops if isinstance(ops, list) else [ops]):
        here = f"{source} detector_ops[{n}]"
        call = resolver.resolve(op, here)
        if not isinstance(call, MethodCall) or call.reference != "detector":
            raise BundleRefused(here, op, "only `$@detector.set_...(...)` settings are read")
        if call.method in _NAMES_ONLY:
            continue
        if call.method not in METHODS or call.args:
            raise BundleRefused(here, op, f"RadView takes only {', '.join(METHODS)} with keyword arguments")
        part = {"set_box_selector_parameters": "box_selector", "set_sliding_window_inferer": "sliding_window",
                "set_box_coder_weights": "box_coder"}[call.method]
        for key, value in call.kwargs.items():
            if key in _IGNORED_METHOD_ARGS:
                continue
            if key not in METHODS[call.method]:
                raise BundleRefused(f"{here}.{key}", value, f"{call.method} takes no argument '{key}' on the allow-list")
            settings[part][key] = check_literal(value, f"{here}.{key}")
    if "roi_size" in settings["sliding_window"]:
        settings["roi_size"] = settings["sliding_window"]["roi_size"]
    return settings


def checked_settings(settings: Any, where: str) -> dict:
    """Settings read back from a card, checked again before a detector is built from them."""
    if not isinstance(settings, dict):
        raise BundleRefused(where, settings, "should be an object")
    out = {k: check_literal(settings.get(k), f"{where}.{k}") for k in DETECTOR_ARGS + ("roi_size",) if k in settings}
    out["anchor"] = _anchor(Target(str(settings.get("anchor", {}).get("class", "")), (),
                                   dict(settings.get("anchor", {}).get("args", {}))), f"{where}.anchor")
    for part, method in (("box_selector", "set_box_selector_parameters"), ("sliding_window", "set_sliding_window_inferer"),
                         ("box_coder", "set_box_coder_weights")):
        values = settings.get(part, {})
        if not isinstance(values, dict) or any(k not in METHODS[method] for k in values):
            raise BundleRefused(f"{where}.{part}", values, f"not arguments of {method}")
        out[part] = {k: check_literal(v, f"{where}.{part}.{k}") for k, v in values.items()}
    return out


def build_detector(network, settings: dict, device: str):
    """A RetinaNetDetector around `network`, set up as the (checked) settings say, in eval mode."""
    from monai.apps.detection.networks.retinanet_detector import RetinaNetDetector
    from monai.apps.detection.utils import anchor_utils

    anchor = getattr(anchor_utils, settings["anchor"]["class"])(**settings["anchor"]["args"])
    detector = RetinaNetDetector(network, anchor, **{k: settings[k] for k in DETECTOR_ARGS if k in settings})
    if settings["box_selector"]:
        detector.set_box_selector_parameters(**settings["box_selector"])
    if settings["box_coder"]:
        detector.set_box_coder_weights(tuple(settings["box_coder"]["weights"]))
    window = dict(settings["sliding_window"])
    window.setdefault("roi_size", settings.get("roi_size", [96, 96, 64]))
    detector.set_sliding_window_inferer(**window, device=device, sw_device=device)
    return detector.eval()


def detect(detector, image, settings: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(boxes (N, 6) in image voxels xyzxyz, scores (N,), class indices (N,)) for one (1, X, Y, Z) image.
    The sliding window is used only when the image is larger than its window, as the zoo's
    inferer does."""
    import torch

    roi = settings["sliding_window"].get("roi_size", settings.get("roi_size"))
    use_window = roi is not None and any(int(s) > int(r) for s, r in zip(image.shape[1:], roi, strict=False))
    with torch.no_grad():
        out = detector([image], use_inferer=use_window)[0]
    boxes = out[detector.target_box_key].detach().float().cpu().numpy().reshape(-1, 6)
    scores = out[detector.pred_score_key].detach().float().cpu().numpy().reshape(-1)
    labels = out[detector.target_label_key].detach().cpu().numpy().reshape(-1).astype(int)
    return boxes, scores, labels
