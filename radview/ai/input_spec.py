"""The inputs a model was made for (its card's "applies_to") and whether a series is one of them.

A card names the modality, body part, dimensions, and where it matters the MR sequence, the
image plane, the radiograph's view, the CT kernel and contrast, and ranges of slice thickness,
slice spacing, pixel spacing, matrix size and slice count. A series that misses any of them is
not run automatically; each miss is said in words that name the series' value and the card's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from radview.ai.card import CardError, ModelCard
from radview.core.acquisition import UNKNOWN, image_plane, mr_sequence
from radview.core.volume import Volume

RANGES = {  # card key -> what it bounds, in words
    "slice_thickness_mm": "slice thickness",
    "slice_spacing_mm": "slice spacing",
    "pixel_spacing_mm": "pixel spacing",
    "matrix": "matrix",
    "slices": "number of slices",
}
LISTS = ("sequences", "planes", "view_positions", "ct_kernels")
CONTRAST = ("any", "with", "without")


@dataclass(frozen=True)
class Mismatch:
    """One way a series differs from what a model was made for."""

    what: str  # "sequence", "slice spacing", ...
    text: str  # "sequence T1 (from the series description 'SAG T1'); made for FLAIR"


def validate_applies_to(card: ModelCard) -> None:
    """CardError naming the field when the card's input ranges or lists are malformed."""
    applies = card.raw.get("applies_to", {})
    required = ["pixel_spacing_mm", "matrix"] + (["slice_spacing_mm"] if card.dimensions == "3d" else [])
    missing = [key for key in required if key not in applies]
    if missing:  # a model must say which images it was made for, a site's or an imported one alike
        raise CardError(f"{card.path}: applies_to must name the input ranges {', '.join(missing)} ([low, high])")
    for key in RANGES:
        if key in applies:
            value = applies[key]
            if (not isinstance(value, list) or len(value) != 2
                    or not all(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0 for v in value)
                    or value[0] > value[1]):
                raise CardError(f"{card.path}: applies_to.{key} should be [low, high], two numbers low <= high")
    for key in LISTS:
        if key in applies and not (isinstance(applies[key], list) and all(isinstance(v, str) for v in applies[key])):
            raise CardError(f"{card.path}: applies_to.{key} should be a list of names")
    if applies.get("contrast", "any") not in CONTRAST:
        raise CardError(f"{card.path}: applies_to.contrast should be one of {', '.join(CONTRAST)}")


def _range(applies: dict, key: str, value: float | None, unit: str) -> Mismatch | None:
    if key not in applies:
        return None
    low, high = applies[key]
    what = RANGES[key]
    if value is None or not math.isfinite(value):
        return Mismatch(what, f"{what} unknown; made for {low:g}-{high:g}{unit}")
    if not low <= value <= high:
        shown = f"{value:.0f}" if float(value).is_integer() else f"{value:.3g}"
        return Mismatch(what, f"{what} {shown}{unit}; made for {low:g}-{high:g}{unit}")
    return None


def input_mismatches(card: ModelCard, volume: Volume) -> list[Mismatch]:
    """Every way `volume` differs from the inputs the card names; [] when the model applies."""
    applies = card.raw.get("applies_to", {})
    found: list[Mismatch] = []
    if volume.modality not in card.modalities:
        found.append(Mismatch("modality", f"modality {volume.modality or 'unknown'}; made for {'/'.join(card.modalities)}"))
    if volume.is_rgb:
        found.append(Mismatch("colour", "a colour image; made for greyscale images"))
    if volume.is_2d != (card.dimensions == "2d"):
        shape = "a single image" if volume.is_2d else f"a stack of {volume.shape[0]} images"
        found.append(Mismatch("dimensions", f"{shape}; made for {'single images' if card.dimensions == '2d' else 'volumes'}"))
    if volume.body_part and card.body_parts and volume.body_part.upper() not in card.body_parts:
        found.append(Mismatch("body part", f"body part {volume.body_part}; made for {'/'.join(card.body_parts)}"))
    if "sequences" in applies and volume.modality == "MR":
        sequence, how = mr_sequence(volume.acquisition, volume.series_description)
        if sequence not in applies["sequences"]:
            told = f"sequence {sequence} ({how})" if sequence != UNKNOWN else f"sequence unknown ({how})"
            found.append(Mismatch("sequence", f"{told}; made for {'/'.join(applies['sequences'])}"))
    if "planes" in applies and not volume.is_2d and volume.has_patient_geometry:
        plane = image_plane(volume.normal)
        if plane not in applies["planes"]:
            found.append(Mismatch("plane", f"{plane} images; made for {'/'.join(applies['planes'])}"))
    if "view_positions" in applies:
        view = volume.acquisition.view_position
        allowed = [v.upper() for v in applies["view_positions"]]
        if view and view not in allowed:
            found.append(Mismatch("view", f"view {view}; made for {'/'.join(allowed)}"))
    if applies.get("ct_kernels") and volume.acquisition.convolution_kernel:
        kernel = volume.acquisition.convolution_kernel
        if not any(k.upper() in kernel.upper() for k in applies["ct_kernels"]):
            found.append(Mismatch("kernel", f"CT kernel {kernel}; made for {'/'.join(applies['ct_kernels'])}"))
    contrast = applies.get("contrast", "any")
    if contrast != "any" and volume.modality == "CT":
        given = "with" if volume.acquisition.contrast_agent else "without"
        if given != contrast:
            found.append(Mismatch("contrast", f"CT {given} contrast agent; made for CT {contrast} contrast"))
    spacing = volume.known_pixel_spacing_mm
    checks = [
        _range(applies, "pixel_spacing_mm", min(spacing) if spacing else None, " mm"),
        _range(applies, "matrix", float(min(volume.shape[1], volume.shape[2])), " pixels"),
    ]
    if not volume.is_2d:
        checks += [_range(applies, "slice_spacing_mm", volume.slice_spacing_mm, " mm"),
                   # SliceThickness is type 2 (may be empty): the spacing above bounds the geometry then
                   _range(applies, "slice_thickness_mm", volume.slice_thickness_mm, " mm")
                   if volume.slice_thickness_mm is not None else None,
                   _range(applies, "slices", float(volume.shape[0]), "")]
    found += [m for m in checks if m is not None]
    return found


def describe(mismatches: list[Mismatch]) -> str:
    """One line for the reader: "sequence T1 (...); made for FLAIR; slice spacing 1 mm; made for 2.5-6 mm"."""
    return "; ".join(m.text for m in mismatches)
