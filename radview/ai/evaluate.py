"""`radview evaluate MODEL_DIR DATA`: measure a model on held-out patients and put it in the card.

DATA is `phantoms` (the card's test seeds, never used in training or validation) or a folder of
site cases: one sub-folder per patient with `dicom/` and `mask.nii.gz` (the dcm2niix layout
`radview convert` writes). Segmentation: Dice and HD95 in mm per patient, mean with a bootstrap
95 % interval by patient, and the volume error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radview.ai.card import load_card, save_card
from radview.ai.datasets import Case, phantom_case
from radview.ai.engine import run_model
from radview.ai.metrics import bootstrap_interval, dice, hd95_mm
from radview.core.progress import CancelToken, ProgressCallback, report
from radview.core.volume import Volume


def case_volume(case: Case, modality: str) -> Volume:
    """A Volume for a phantom case (axial, LPS-aligned, spacing from the case)."""
    k, r, c = case.spacing_mm
    return Volume(case.voxels, pixel_spacing_mm=(r, c), slice_spacing_mm=k, modality=modality,
                  series_instance_uid=case.patient, slices_loaded=case.voxels.shape[0],
                  photometric_interpretation="MONOCHROME1" if case.inverted else "MONOCHROME2")


def site_cases(folder: Path) -> list[Case]:
    """Cases from a site folder: <patient>/dicom/ and <patient>/mask.nii.gz on the same grid."""
    import nibabel as nib

    from radview.core.nifti_layout import from_nifti_layout
    from radview.dicom.load import load_stack
    from radview.dicom.scan import scan_path
    from radview.dicom.stacks import split_series

    cases = []
    for patient in sorted(p for p in Path(folder).iterdir() if (p / "mask.nii.gz").is_file()):
        stack = max((s for se in scan_path(patient / "dicom").all_series() for s in split_series(se)), key=lambda s: len(s.images))
        volume = load_stack(stack)
        labels = from_nifti_layout(np.asarray(nib.load(patient / "mask.nii.gz").dataobj)).astype(np.uint8)
        if labels.shape != volume.shape:
            raise ValueError(f"{patient / 'mask.nii.gz'}: mask shape {labels.shape} differs from the series {volume.shape}")
        cases.append(Case(patient.name, volume.voxels, labels, volume.spacing_mm, volume.display_inverted))
    if not cases:
        raise FileNotFoundError(f"{folder}: no <patient>/dicom + <patient>/mask.nii.gz cases found")
    return cases


def evaluate_segmentation(model_dir: Path, data: str, progress: ProgressCallback | None = None,
                          cancel: CancelToken | None = None, write_card: bool = True) -> dict:
    """Per-patient Dice / HD95 / volume error and their summary; written into the card's metrics."""
    card = load_card(Path(model_dir) / "model.json")
    seeds = card.training["recipe"]["test_seeds"]
    cases = [phantom_case(card.id, s) for s in seeds] if data == "phantoms" else site_cases(Path(data))
    rows = []
    for n, case in enumerate(cases):
        result = run_model(card, case_volume(case, card.modalities[0]), "cpu", cancel=cancel)
        predicted, reference = result.labels > 0, case.labels > 0
        voxel_ml = float(np.prod(case.spacing_mm)) / 1000
        rows.append({"patient": case.patient, "dice": round(dice(predicted, reference), 4),
                     "hd95_mm": round(hd95_mm(predicted, reference, case.spacing_mm), 2),
                     "volume_error_ml": round(float(predicted.sum() - reference.sum()) * voxel_ml, 2)})
        report(progress, n + 1, len(cases), f"evaluating {card.id}")
    dices = [r["dice"] for r in rows]
    low, high = bootstrap_interval(lambda sample: float(np.mean(sample)), dices)
    summary = {
        "data": "held-out synthetic phantoms (test seeds)" if data == "phantoms" else str(data),
        "patients": len(rows),
        "dice_mean": round(float(np.mean(dices)), 4),
        "dice_95ci": [round(low, 4), round(high, 4)],
        "hd95_mm_median": round(float(np.median([r["hd95_mm"] for r in rows])), 2),
        "volume_error_ml_median_abs": round(float(np.median([abs(r["volume_error_ml"]) for r in rows])), 2),
        "per_patient": rows,
    }
    if write_card:
        raw = dict(card.raw)
        raw["metrics"] = {"headline": {"Dice": summary["dice_mean"], "HD95 mm": summary["hd95_mm_median"]},
                          "test": summary}
        save_card(raw, Path(model_dir))
    return summary
