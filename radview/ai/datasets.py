"""Training and test data: RadView's synthetic phantoms (by seed), or a site's labelled series.

A sample is one 2D network input (channels, H, W) float32 with its label map (H, W) int64.
Samples keep the id of the patient (phantom seed) they come from, so splits are by patient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np



CXR_GRID_PX = 512  # radiographs are resampled to this many pixels across for the cxr-nodule model


@dataclass
class Case:
    """One patient's image with its reference labels on the same grid."""

    patient: str
    voxels: np.ndarray  # (slices, rows, cols)
    labels: np.ndarray  # (slices, rows, cols) uint8, the card's output values
    spacing_mm: tuple[float, float, float]
    inverted: bool = False
    truth: dict | None = None  # the phantom's ground truth (nodule list etc.), if any


def phantom_case(model_id: str, seed: int) -> Case:
    """The synthetic phantom of `seed` for a shipped model, labels mapped to the card's values."""
    if model_id == "mr-brain-tumor":
        from radview.demo.brain_mr import make_brain_mr

        mr = make_brain_mr(seed)
        labels = (mr.labels > 0).astype(np.uint8)  # tumour = core + oedema
        return Case(f"phantom-{seed}", mr.pixels, labels, (mr.slice_spacing_mm, mr.pixel_spacing_mm, mr.pixel_spacing_mm),
                    truth=mr.ground_truth())
    if model_id == "ct-nodule":
        from radview.demo.chest_ct import make_chest_ct

        ct = make_chest_ct(seed)
        labels = (ct.lung_labels > 0).astype(np.uint8)  # 1 lung
        labels[ct.nodule_labels > 0] = 2  # 2 nodule (inside or at the edge of the lung)
        return Case(f"phantom-{seed}", ct.hu, labels, (ct.slice_spacing_mm, ct.pixel_spacing_mm, ct.pixel_spacing_mm),
                    truth={**ct.ground_truth(), "origin_mm": list(ct.origin_mm)})
    if model_id == "cxr-nodule":
        from scipy import ndimage

        from radview.demo.chest_xray import make_chest_xray

        xr = make_chest_xray(seed)
        # the model works at CXR_GRID_PX: the phantom is resampled once here, as the engine
        # resamples a real radiograph to the card's pixel spacing
        factor = CXR_GRID_PX / xr.pixels.shape[0]
        pixels = ndimage.zoom(xr.pixels.astype(np.float32), factor, order=1)
        labels = (ndimage.zoom(xr.nodule_mask, factor, order=0) > 0).astype(np.uint8)
        spacing = xr.pixel_spacing_mm / factor
        truth = {"nodules": [{"row": n.centre_row * factor, "col": n.centre_col * factor, "diameter_mm": n.diameter_mm,
                              "side": n.side} for n in xr.nodules]}
        return Case(f"phantom-{seed}", pixels[None], labels[None], (1.0, spacing, spacing),
                    inverted=xr.photometric == "MONOCHROME1", truth=truth)
    raise ValueError(f"no phantom generator for model '{model_id}'")



def recipe_seeds(recipe: dict, part: str) -> list[int]:
    """The phantom seeds of one part ("train", "validation", "test") of a recipe: an explicit
    list `<part>_seeds`, extended by a half-open range `<part>_seed_range`."""
    seeds = list(recipe.get(f"{part}_seeds", []))
    if f"{part}_seed_range" in recipe:
        seeds += list(range(*recipe[f"{part}_seed_range"]))
    return seeds
