"""Labelled cases for training and evaluation: RadView's phantoms by seed, or a site's own data.

A site folder holds one sub-folder per patient with the series in `dicom/` and its reference
labels as one of:
- `mask.nii.gz`: label values as the card's outputs, in the layout `radview convert` and dcm2niix write;
- `seg.dcm`: a DICOM SEG of that series; segments are matched to the card's outputs by their
  SegmentedPropertyType code or their label;
- a `labels.csv` in the site folder, in the LUNA16 annotations layout
  (`seriesuid` or `patient`, `coordX`, `coordY`, `coordZ` in patient LPS mm, `diameter_mm`):
  each row a nodule, painted as a sphere; patients without rows have none.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from radview.ai.card import ModelCard
from radview.ai.datasets import CXR_GRID_PX, Case, case_volume, recipe_seeds
from radview.ai.input_spec import input_mismatches
from radview.core.volume import Volume

MASK_NIFTI = "mask.nii.gz"
MASK_SEG = "seg.dcm"
LABELS_CSV = "labels.csv"


def phantom_case(model_id: str, seed: int) -> Case:
    """The synthetic phantom of `seed` for a shipped model, labels mapped to the card's values.
    truth["nodules"]: [{"centre_mm": LPS, "diameter_mm": ...}] where the phantom has nodules."""
    if model_id == "mr-brain-tumor":
        from radview.demo.brain_mr import make_brain_mr

        return _brain_mr_case(make_brain_mr(seed), f"phantom-{seed}")
    if model_id == "ct-nodule":
        from radview.demo.chest_ct import make_chest_ct

        return _chest_ct_case(make_chest_ct(seed), f"phantom-{seed}")
    if model_id == "cxr-nodule":
        from radview.demo.chest_xray import make_chest_xray

        return _chest_xray_case(make_chest_xray(seed), f"phantom-{seed}")
    raise ValueError(f"no phantom generator for model '{model_id}'")


def _chest_xray_case(xr, patient: str, detector_grid: bool = False) -> Case:
    """A radiograph phantom as a case at CXR_GRID_PX, or with detector_grid as the detector wrote
    it (2000 x 2000 12-bit pixels of about 0.18 mm, which the engine resamples to the card's
    spacing as it does a real radiograph's); truth["nodules"] with side (and size band and zone
    where the phantom names them)."""
    from scipy import ndimage

    # the model is trained at CXR_GRID_PX: the phantom is resampled once here
    factor = 1.0 if detector_grid else CXR_GRID_PX / xr.pixels.shape[0]
    pixels = xr.pixels if detector_grid else ndimage.zoom(xr.pixels.astype(np.float32), factor, order=1)
    labels = (xr.nodule_mask if detector_grid else ndimage.zoom(xr.nodule_mask, factor, order=0)) > 0
    labels = labels.astype(np.uint8)
    spacing = xr.pixel_spacing_mm / factor
    # case_volume puts pixel (row, col) at (col, row, 0) * spacing in patient mm
    nodules = []
    for n in xr.nodules:
        nodule = {"centre_mm": [n.centre_col * factor * spacing, n.centre_row * factor * spacing, 0.0],
                  "diameter_mm": n.diameter_mm, "side": n.side}
        if n.size_band is not None:
            nodule.update(size_band=n.size_band, zone=n.zone)
        nodules.append(nodule)
    return Case(patient, pixels[None], labels[None], (1.0, spacing, spacing),
                inverted=xr.photometric == "MONOCHROME1", truth={"nodules": nodules})


def _brain_mr_case(mr, patient: str) -> Case:
    """A brain MR phantom as a case: label 1 tumour (core and oedema); truth its ground truth."""
    labels = (mr.labels > 0).astype(np.uint8)  # tumour = core + oedema
    return Case(patient, mr.pixels, labels, (mr.slice_spacing_mm, mr.pixel_spacing_mm, mr.pixel_spacing_mm),
                truth=mr.ground_truth())


def _chest_ct_case(ct, patient: str) -> Case:
    """A chest CT phantom as a case: labels 1 lung, 2 nodule; truth as the phantom's ground truth."""
    labels = (ct.lung_labels > 0).astype(np.uint8)  # 1 lung
    labels[ct.nodule_labels > 0] = 2  # 2 nodule (inside or at the edge of the lung)
    return Case(patient, ct.hu, labels, (ct.slice_spacing_mm, ct.pixel_spacing_mm, ct.pixel_spacing_mm),
                truth={**ct.ground_truth(), "origin_mm": list(ct.origin_mm)})


# Hard-case phantoms, for evaluation only, never for training, validation, the input check's
# limits or the card's test (hard_seeds checks the recipe): chest CT (radview.demo.nodule_cases),
# radiographs (radview.demo.radiograph_cases) and brain MR (radview.demo.tumour_cases). Each
# model has its own held-out range; no card's recipe uses 3000-3999. Brain MR seeds 3240-3279
# drawn by the same plan chose the card's keep_volume_ml: they are validation, never a test.
HARD_SEED_RANGES = {"ct-nodule": (3000, 3060), "cxr-nodule": (3100, 3160), "mr-brain-tumor": (3200, 3240)}
HARD_SEED_RANGE = HARD_SEED_RANGES["ct-nodule"]
HARD_MODELS = tuple(HARD_SEED_RANGES)


def _check_hard_model(model_id: str) -> None:
    if model_id not in HARD_MODELS:
        raise ValueError(f"no hard-case phantoms for model '{model_id}' (there are for: {', '.join(HARD_MODELS)})")


def hard_phantom_case(model_id: str, seed: int) -> Case:
    """The hard-case phantom of `seed` for a model of HARD_MODELS, its strata in the truth:
    truth["nodules"] (CT, radiograph), truth["stratum"] (brain MR)."""
    _check_hard_model(model_id)
    if model_id == "cxr-nodule":
        from radview.demo.chest_xray import make_chest_xray
        from radview.demo.radiograph_cases import hard_case_plan as radiograph_plan

        # at the detector's size, as the files give it: the engine resamples it as it does a real one
        return _chest_xray_case(make_chest_xray(seed, plan=radiograph_plan(seed)), f"hard-{seed}", detector_grid=True)
    if model_id == "mr-brain-tumor":
        from radview.demo.brain_mr import make_brain_mr
        from radview.demo.tumour_cases import hard_case_plan as tumour_plan

        return _brain_mr_case(make_brain_mr(seed, plan=tumour_plan(seed)), f"hard-{seed}")
    from radview.demo.chest_ct import make_chest_ct
    from radview.demo.nodule_cases import hard_case_plan

    return _chest_ct_case(make_chest_ct(seed, plan=hard_case_plan(seed)), f"hard-{seed}")


def recipe_parts(recipe: dict) -> list[str]:
    """The parts a recipe names seeds for (`<part>_seeds` or `<part>_seed_range`): train,
    validation, test, conformance, train_hard, ..."""
    parts = {key.removesuffix("_seeds") for key in recipe if key.endswith("_seeds")}
    return sorted(parts | {key.removesuffix("_seed_range") for key in recipe if key.endswith("_seed_range")})


def hard_seeds(card: ModelCard, scans: int | None = None) -> list[int]:
    """The first `scans` hard-case seeds of the card's model (all by default), refused if any
    part of the card's recipe uses one."""
    _check_hard_model(card.id)
    if scans is not None and scans < 1:
        raise ValueError(f"the number of hard-case scans must be at least 1, not {scans}")
    seeds = list(range(*HARD_SEED_RANGES[card.id]))[:scans]
    recipe = card.training.get("recipe", {})
    used = {s for part in recipe_parts(recipe) for s in recipe_seeds(recipe, part)}
    if used & set(seeds):
        raise ValueError(f"{card.id}: the recipe uses hard-case seeds {sorted(used & set(seeds))}; they are kept for "
                         "evaluation only")
    return seeds


class LazyCases(Sequence):
    """Phantom cases made one at a time when read, so an evaluation holds one scan in memory."""

    def __init__(self, make: Callable[[int], Case], seeds: list[int]) -> None:
        self.make, self.seeds = make, seeds

    def __len__(self) -> int:
        return len(self.seeds)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return LazyCases(self.make, self.seeds[index])
        return self.make(self.seeds[index])


def hard_phantom_cases(card: ModelCard, scans: int | None = None) -> LazyCases:
    """The card's hard-case phantoms (the first `scans` seeds), made as they are read."""
    return LazyCases(lambda seed: hard_phantom_case(card.id, seed), hard_seeds(card, scans))


def recipe_cases(card: ModelCard, part: str) -> list[Case]:
    """The phantom cases of one part ("train", "validation", "test") of the card's recipe: the
    standard phantoms of `<part>_seeds`, then the hard-case phantoms of `<part>_hard_seeds` (their
    seeds are disjoint from the held-out hard-case seeds; hard_seeds refuses any overlap)."""
    return list(lazy_recipe_cases(card, part))


def lazy_recipe_cases(card: ModelCard, *parts: str) -> LazyCases:
    """The phantom cases of the recipe's parts, in order (as recipe_cases), made one at a time as
    they are read: for a pass that reads each scan once, so memory holds one scan, not forty."""
    recipe = card.training["recipe"]
    seeds = [(hard, seed) for part in parts
             for hard in (False, True) for seed in recipe_seeds(recipe, f"{part}_hard" if hard else part)]
    return LazyCases(lambda pair: hard_phantom_case(card.id, pair[1]) if pair[0] else phantom_case(card.id, pair[1]), seeds)


def recipe_split(card: ModelCard) -> dict[str, list[Case]]:
    """{"train": ..., "validation": ...} phantom cases of the card's recipe (split by seed = patient)."""
    return {part: recipe_cases(card, part) for part in ("train", "validation")}


def conformance_cases(card: ModelCard, split: dict[str, list[Case]], site: bool) -> tuple[list[Case], list[Case], str]:
    """(images that set the input check's limit, images that measure its pass rate, what they are)
    for a model trained on `split`. Phantoms: the validation seeds and the recipe's extra
    "conformance" seeds set the limit, the test seeds measure it. A site: its validation patients."""
    if site:
        return split["validation"], [], "the site's training patients (fit) and validation patients (limit)"
    # hard-case conformance seeds bring low-dose noise and thin or thick slices into the limit;
    # one outside the card's input rules is left out (the model never runs on it). The standard
    # seeds are all kept: they are drawn as the training phantoms are, whose volumes do not carry
    # every header a rule reads (an MR phantom names no sequence)
    recipe = card.training["recipe"]
    hard = LazyCases(lambda seed: hard_phantom_case(card.id, seed), recipe_seeds(recipe, "conformance_hard"))
    extra = [phantom_case(card.id, seed) for seed in recipe_seeds(recipe, "conformance")]
    extra += [case for case in hard if not input_mismatches(card, case_volume(case, card.modalities[0]))]
    kinds = ", standard and hard-case" if len(hard) else ""
    data = f"synthetic phantoms: training seeds (fit), validation and conformance seeds{kinds} (limit), test seeds (pass rate)"
    return split["validation"] + extra, recipe_cases(card, "test"), data


def site_cases(folder: Path, card: ModelCard) -> list[Case]:
    """A site's labelled cases (see the module docstring), labels as the card's output values."""
    from radview.dicom.load import load_stack
    from radview.dicom.scan import scan_path
    from radview.dicom.stacks import split_series

    folder = Path(folder)
    csv_nodules = _read_luna_csv(folder / LABELS_CSV) if (folder / LABELS_CSV).is_file() else None
    cases = []
    for patient in sorted(p for p in folder.iterdir() if (p / "dicom").is_dir()):
        stacks = [s for series in scan_path(patient / "dicom").all_series() for s in split_series(series)]
        if not stacks:
            raise FileNotFoundError(f"{patient / 'dicom'}: no loadable DICOM series")
        volume = load_stack(max(stacks, key=lambda s: len(s.images)))
        if (patient / MASK_NIFTI).is_file():
            labels = _nifti_labels(patient / MASK_NIFTI, volume)
        elif (patient / MASK_SEG).is_file():
            labels = _seg_labels(patient / MASK_SEG, volume, card)
        elif csv_nodules is not None:
            labels = None
        else:
            continue
        nodules = None
        if csv_nodules is not None:
            nodules = csv_nodules.get(patient.name, csv_nodules.get(volume.series_instance_uid, []))
            if labels is None:
                labels = _sphere_labels(volume, nodules, card.finding_value)
        elif card.finding_value in labels:
            nodules = _nodules_from_labels(labels == card.finding_value, volume)
        cases.append(Case(patient.name, volume.voxels, labels, volume.spacing_mm, volume.display_inverted,
                          truth={"nodules": nodules or []}, volume=volume))
    if not cases:
        raise FileNotFoundError(f"{folder}: no cases found (<patient>/dicom with <patient>/{MASK_NIFTI}, "
                                f"<patient>/{MASK_SEG}, or a {LABELS_CSV} beside them)")
    return cases


def _nifti_labels(path: Path, volume: Volume) -> np.ndarray:
    import nibabel as nib

    from radview.core.nifti_layout import from_nifti_layout

    labels = from_nifti_layout(np.asarray(nib.load(path).dataobj)).astype(np.uint8)
    if labels.shape != volume.shape[:3]:
        raise ValueError(f"{path}: mask shape {labels.shape} differs from the series {volume.shape[:3]}")
    return labels


def _seg_labels(path: Path, volume: Volume, card: ModelCard) -> np.ndarray:
    """SEG segment numbers -> the card's output values, by property code value or by label."""
    from radview.dicom.seg_read import read_segmentation

    numbers, segments = read_segmentation(path, volume)
    labels = np.zeros_like(numbers)
    for segment in segments:
        match = [o.value for o in card.outputs if o.code[0] == segment.code[0] or o.name.lower() == segment.label.lower()]
        if not match:
            names = ", ".join(f"{o.name} ({o.code[1]} {o.code[0]})" for o in card.outputs)
            raise ValueError(f"{path}: segment {segment.number} '{segment.label}' ({segment.code[1]} {segment.code[0]}) "
                             f"matches none of the model's outputs: {names}")
        labels[numbers == segment.number] = match[0]
    return labels


def _read_luna_csv(path: Path) -> dict[str, list[dict]]:
    """{patient or seriesuid: [{"centre_mm": [x, y, z], "diameter_mm": d}]} from a LUNA16-style CSV."""
    nodules: dict[str, list[dict]] = {}
    with path.open(newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            try:
                key = (row.get("patient") or row.get("seriesuid") or "").strip()
                centre = [float(row["coordX"]), float(row["coordY"]), float(row["coordZ"])]
                diameter = float(row["diameter_mm"])
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"{path}, line {line}: needs patient (or seriesuid), coordX, coordY, coordZ and "
                                 f"diameter_mm as numbers ({error!r})") from error
            if not key or diameter <= 0:
                raise ValueError(f"{path}, line {line}: empty patient or a diameter that is not positive")
            nodules.setdefault(key, []).append({"centre_mm": centre, "diameter_mm": diameter})
    return nodules


def _sphere_labels(volume: Volume, nodules: list[dict], value: int) -> np.ndarray:
    """Spheres of each nodule's diameter around its centre, in the volume's voxel grid."""
    labels = np.zeros(volume.shape[:3], np.uint8)
    if not nodules:
        return labels
    k, j, i = np.indices(labels.shape, sparse=True)
    step = np.array(volume.spacing_mm)
    for nodule in nodules:
        centre = volume.patient_mm_to_voxel(np.array([nodule["centre_mm"]], float))[0]
        # squared distance in mm on the axes of the grid (exact for untilted series)
        d2 = ((k - centre[0]) * step[0]) ** 2 + ((j - centre[1]) * step[1]) ** 2 + ((i - centre[2]) * step[2]) ** 2
        labels[d2 <= (nodule["diameter_mm"] / 2) ** 2] = value
    return labels


def _nodules_from_labels(mask: np.ndarray, volume: Volume) -> list[dict]:
    """Reference nodules from a mask: each connected component's centroid and equivalent-sphere diameter."""
    from scipy import ndimage

    components, count = ndimage.label(mask)
    voxel_mm3 = float(np.prod(volume.spacing_mm))
    nodules = []
    for index, where in enumerate(ndimage.find_objects(components), start=1):
        voxels = np.argwhere(components[where] == index) + [s.start for s in where]
        centre = volume.voxel_to_patient_mm(voxels.mean(axis=0))
        diameter = (6 * len(voxels) * voxel_mm3 / np.pi) ** (1 / 3)
        nodules.append({"centre_mm": centre.tolist(), "diameter_mm": float(diameter)})
    return nodules
