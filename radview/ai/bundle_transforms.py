"""The pre- and post-processing transforms an imported bundle may name, and the inferer settings.

A bundle's `preprocessing` / `postprocessing` (Compose of dictionary transforms, read as data by
radview.ai.bundle_config) become lists of steps `{"transform": "Spacing", "args": {...}}` on the
image (or the prediction). Each transform is one of:

- applied: spacing, orientation, intensity scaling and normalisation, padding, activations,
  argmax / threshold, connected components: built from MONAI's array transform of that name with
  only the arguments listed here, each a literal;
- done by RadView itself: loading (RadView reads the DICOM), channel and type handling, inverting
  to the original grid (always done), saving, the detection boxes' clipping and mapping to
  patient coordinates: recognised and not built.

Any other transform is refused with its key path and name.
"""

from __future__ import annotations

from typing import Any

from radview.ai.bundle_allowlist import check_literal
from radview.ai.bundle_config import BundleRefused, Target

# transform (array name) -> the arguments it may take
APPLIED = {
    "Orientation": ("axcodes",),
    "Spacing": ("pixdim", "mode", "padding_mode", "align_corners", "diagonal"),
    "ScaleIntensityRange": ("a_min", "a_max", "b_min", "b_max", "clip"),
    "ScaleIntensityRangePercentiles": ("lower", "upper", "b_min", "b_max", "clip", "relative", "channel_wise"),
    "NormalizeIntensity": ("subtrahend", "divisor", "nonzero", "channel_wise"),
    "ScaleIntensity": ("minv", "maxv", "factor", "channel_wise"),
    "ThresholdIntensity": ("threshold", "above", "cval"),
    "DivisiblePad": ("k", "mode"),
    "SpatialPad": ("spatial_size", "mode", "method"),
    "Activations": ("sigmoid", "softmax"),
    "AsDiscrete": ("argmax", "to_onehot", "threshold", "rounding", "keepdim"),
    "KeepLargestConnectedComponent": ("applied_labels", "is_onehot", "independent", "connectivity", "num_components"),
    "FillHoles": ("applied_labels", "connectivity"),
    "RemoveSmallObjects": ("min_size", "connectivity", "independent_channels"),
}
DONE_BY_RADVIEW = {
    "LoadImage": "RadView reads the DICOM series itself",
    "EnsureChannelFirst": "RadView gives the network one channel",
    "EnsureType": "RadView uses float32 tensors", "ToTensor": "RadView uses float32 tensors",
    "CastToType": "RadView uses float32 tensors", "ToDevice": "RadView chooses the device",
    "Invert": "RadView always maps the prediction back to the series' own grid",
    "SaveImage": "RadView writes its own results (findings, SEG, SR)",
    "DeleteItems": "not needed", "CopyItems": "not needed", "Identity": "not needed",
    "ClipBoxToImage": "RadView clips boxes to the image", "ConvertBoxMode": "RadView reads the detector's boxes itself",
    "AffineBoxToWorldCoordinate": "RadView maps boxes to patient coordinates itself",
    "BoxToMask": "RadView draws its own box outlines",
}
_PER_KEY = ("mode", "padding_mode", "align_corners")  # dictionary transforms may give one per key
INFERER_ARGS = ("roi_size", "sw_batch_size", "overlap", "mode", "sigma_scale", "padding_mode", "cval")
_MONAI_PREFIXES = ("", "monai.transforms.", "monai.apps.detection.transforms.dictionary.")


def _array_name(name: str, where: str) -> str:
    """The array transform a dictionary transform's `_target_` names (`Spacingd` -> `Spacing`)."""
    for prefix in _MONAI_PREFIXES:
        if name.startswith(prefix):
            base = name[len(prefix):]
            for candidate in (base, base[:-1] if base.endswith("d") else None, base[:-1] if base.endswith("D") else None):
                if candidate in APPLIED or candidate in DONE_BY_RADVIEW:
                    return candidate
    raise BundleRefused(f"{where}._target_", name, "not on RadView's allow-list of transforms "
                        f"({', '.join(sorted(APPLIED))}, and the ones RadView does itself)")


def _keys(kwargs: dict) -> list[str]:
    keys = kwargs.get("keys", kwargs.get("box_keys", []))
    return [keys] if isinstance(keys, str) else [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []


def read_steps(compose: Any, key: str, where: str) -> tuple[list[dict], list[str]]:
    """The applied steps on `key` of a Compose (or list) of transforms, and notes on the ones RadView
    does itself or that act on other keys."""
    if compose is None:
        return [], []
    if isinstance(compose, Target) and compose.name in ("Compose", "monai.transforms.Compose"):
        transforms = compose.kwargs.get("transforms", compose.args[0] if compose.args else [])
        where = f"{where}.transforms"
    else:
        transforms = compose
    if not isinstance(transforms, list):
        raise BundleRefused(where, transforms, "should be a Compose of transforms or a list of them")
    steps, notes = [], []
    for n, item in enumerate(transforms):
        here = f"{where}[{n}]"
        if item is None:  # `_disabled_`
            continue
        if not isinstance(item, Target):
            raise BundleRefused(here, item, "a transform must be a `_target_` object")
        name = _array_name(item.name, here)
        if name in DONE_BY_RADVIEW:
            notes.append(f"{here} {item.name}: {DONE_BY_RADVIEW[name]}")
            continue
        keys = _keys(item.kwargs)
        if keys and key not in keys:
            notes.append(f"{here} {item.name}: acts on {', '.join(keys)}, not on '{key}'; not needed here")
            continue
        steps.append(step(name, item.kwargs, keys.index(key) if key in keys else 0, here))
    return steps, notes


def step(name: str, kwargs: dict, key_index: int, where: str) -> dict:
    """One checked step: its allowed arguments, literal, one value per key reduced to this key's."""
    args = {}
    for arg, value in kwargs.items():
        if arg in ("keys", "allow_missing_keys", "dtype", "meta_keys", "meta_key_postfix", "lazy"):
            continue
        if arg not in APPLIED[name]:
            raise BundleRefused(f"{where}.{arg}", value, f"{name} takes no argument '{arg}' on RadView's allow-list")
        if arg in _PER_KEY and isinstance(value, list):
            value = value[key_index] if key_index < len(value) else value[0]
        args[arg] = check_literal(value, f"{where}.{arg}")
    return {"transform": name, "args": args}


def checked_steps(steps: Any, where: str) -> list[dict]:
    """Steps read back from a card, checked again before anything is built from them."""
    if not isinstance(steps, list):
        raise BundleRefused(where, steps, "should be a list of steps")
    out = []
    for n, item in enumerate(steps):
        if not (isinstance(item, dict) and set(item) == {"transform", "args"} and item["transform"] in APPLIED
                and isinstance(item["args"], dict)):
            raise BundleRefused(f"{where}[{n}]", item, "not an allowed transform step")
        out.append(step(item["transform"], item["args"], 0, f"{where}[{n}]"))
    return out


def inferer_settings(inferer: Any, where: str) -> dict:
    """{"kind": "sliding_window", roi_size, ...} or {"kind": "simple"} from the bundle's inferer."""
    if isinstance(inferer, Target) and inferer.name.split(".")[-1] == "SimpleInferer" and not inferer.kwargs:
        return {"kind": "simple"}
    if not (isinstance(inferer, Target) and inferer.name in ("SlidingWindowInferer", "monai.inferers.SlidingWindowInferer")):
        raise BundleRefused(where, getattr(inferer, "name", inferer),
                            "RadView runs SlidingWindowInferer or SimpleInferer only")
    args = {}
    for arg, value in inferer.kwargs.items():
        if arg in ("device", "sw_device", "progress", "cache_roi_weight_map"):
            continue  # RadView chooses the device and reports progress itself
        if arg not in INFERER_ARGS:
            raise BundleRefused(f"{where}.{arg}", value, f"the inferer takes no argument '{arg}' on RadView's allow-list")
        args[arg] = check_literal(value, f"{where}.{arg}")
    if "roi_size" not in args:
        raise BundleRefused(where, inferer.name, "the sliding-window inferer names no roi_size")
    return {"kind": "sliding_window", **args}


def build_transform(item: dict):
    """The MONAI array transform of a checked step."""
    import monai.transforms as mt

    args = dict(item["args"])
    if item["transform"] == "Orientation":  # say the labels, so MONAI does not guess them from metadata
        args["labels"] = (("L", "R"), ("P", "A"), ("I", "S"))
    return getattr(mt, item["transform"])(**args)
