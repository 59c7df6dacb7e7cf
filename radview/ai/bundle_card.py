"""The RadView card of an imported MONAI bundle, written from its metadata.json.

The card says what the publisher says (name, version, authors, licence, intended use, the input
the network was made for) and what RadView adds: the outputs mapped to findings, wide input
ranges around the spacing the bundle resamples to, and plainly that the publisher's metrics are
the publisher's claim, not measured here, and that no input-conformance check exists for it (the
publisher ships no statistics of its training images, and RadView does not invent one).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from radview.ai.bundle_config import BundleRefused

BUNDLE_ARCHITECTURE = "monai.bundle"
NO_INPUT_CHECK = ("no input check is available for this imported model: its publisher gives no statistics of the "
                  "training images, so RadView cannot tell whether an image is like them")
_MODALITIES = {"CT": "CT", "MR": "MR", "MRI": "MR", "CR": "CR", "DX": "DX", "XRAY": "DX", "X-RAY": "DX", "PT": "PT"}
_PALETTE = [(255, 90, 60, 255), (80, 170, 255, 255), (90, 220, 120, 255), (240, 200, 60, 255), (200, 110, 240, 255),
            (60, 220, 220, 255), (255, 140, 200, 255), (160, 160, 160, 255)]


def _text(metadata: dict, key: str, limit: int = 2000) -> str:
    value = metadata.get(key, "")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value)[:limit] if value is not None else ""


def slug(text: str) -> str:
    """A card id from a bundle name: letters, digits, '.', '_', '-' (at most 64)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:64]
    return cleaned or "imported-model"


def modality_of(metadata: dict, image: dict) -> str:
    """The modality the bundle's input is, from its input spec or its task and description."""
    for text in (image.get("modality"), metadata.get("modality")):
        if isinstance(text, str) and text.strip().upper() in _MODALITIES:
            return _MODALITIES[text.strip().upper()]
    words = " ".join(_text(metadata, k) for k in ("name", "task", "description")).upper()
    for word, modality in _MODALITIES.items():
        if re.search(rf"\b{re.escape(word)}\b", words):
            return modality
    raise BundleRefused("configs/metadata.json network_data_format.inputs", image,
                        "names no modality RadView knows (CT, MR, CR, DX, PT); give one with --modality")


def _code(name: str, value: int, card_id: str) -> list[str]:
    """The SNOMED code pydicom knows for a label's name (Spleen, Liver, Nodule...), else a local code."""
    from pydicom.sr.codedict import codes

    keyword = "".join(part.capitalize() for part in re.split(r"[^A-Za-z]+", name) if part)
    try:
        code = getattr(codes.SCT, keyword)
        return [str(code.value), str(code.scheme_designator), str(code.meaning)]
    except AttributeError:
        return [f"{card_id}-{value}"[:16], "99RADVIEW", name[:64]]


def output_labels(channels: dict, card_id: str) -> list[dict]:
    """The card's outputs from the prediction's channel_def ({"0": "background", "1": "spleen"})."""
    outputs = []
    for key, name in sorted(channels.items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdigit() else 999):
        if not str(key).isdigit() or int(key) == 0 or not isinstance(name, str) or name.lower() == "background":
            continue
        value = int(key)
        outputs.append({"value": value, "name": name[:64], "code": _code(name, value, card_id),
                        "color": list(_PALETTE[(value - 1) % len(_PALETTE)])})
    return outputs


def applies_to(modality: str, pixdim: list[float] | None, dimensions: str, note: str) -> dict:
    """Input ranges: a quarter to four times the spacing the bundle resamples to (it resamples, so
    the spacing matters less than for RadView's own models); a site narrows them in model.json."""
    low_px, high_px = (0.1, 5.0) if not pixdim else (round(min(pixdim[:2]) / 4, 3), round(max(pixdim[:2]) * 4, 3))
    low_z, high_z = (0.3, 10.0) if not pixdim or len(pixdim) < 3 else (round(pixdim[2] / 4, 3), round(pixdim[2] * 4, 3))
    made_for: dict[str, Any] = {"modalities": [modality], "body_parts": [], "dimensions": dimensions,
                                "pixel_spacing_mm": [low_px, high_px], "matrix": [16, 4096], "contrast": "any",
                                "note": note}
    if dimensions == "3d":
        made_for.update(slice_spacing_mm=[low_z, high_z], slices=[8, 4096])
    return made_for


def card_dict(card_id: str, metadata: dict, task: str, network: dict, pipeline: dict, outputs: list[dict],
              modality: str, weights_sha256: str, sources: dict, ignored: list[str]) -> dict:
    """The model.json of an imported bundle."""
    name, version = _text(metadata, "name", 200) or card_id, _text(metadata, "version", 32) or "0"
    authors, licence = _text(metadata, "authors", 500), _text(metadata, "license", 200) or _text(metadata, "copyright", 200)
    claims = metadata.get("eval_metrics") if isinstance(metadata.get("eval_metrics"), dict) else {}
    spacing = next((s["args"].get("pixdim") for s in pipeline["preprocessing"] if s["transform"] == "Spacing"), None)
    pixdim = spacing if isinstance(spacing, list) else [spacing] * 3 if isinstance(spacing, (int, float)) else None
    roi = pipeline["inferer"].get("roi_size") or pipeline.get("detector", {}).get("roi_size") or [96, 96]
    roi = roi if isinstance(roi, list) else [roi, roi]
    note = (f"Imported MONAI bundle '{name}' {version}: it resamples to {pixdim} mm itself, so these ranges are wide; "
            "narrow them (and name body_parts) for your site." if pixdim else f"Imported MONAI bundle '{name}' {version}.")
    return {
        "id": card_id,
        "version": version,
        "task": task,
        "evaluation": "nodule_detection" if task == "detection" else "segmentation",
        "applies_to": applies_to(modality, pixdim, "3d", note),
        "input": {"size": [max(16, min(4096, int(v))) for v in roi[:2]], "normalisation": {"method": "bundle"}},
        "architecture": {"name": BUNDLE_ARCHITECTURE, "args": network},
        "postprocessing": f"bundle_{task}",
        "outputs": outputs,
        "thresholds": {"min_score": 0.5} if task == "detection" else {"min_volume_ml": 0.05},
        "weights": {"file": "weights.safetensors", "sha256": weights_sha256},
        "bundle": {**pipeline, "source": {
            "name": name, "version": version, "authors": authors, "license": licence,
            "monai_version": _text(metadata, "monai_version", 32), "task": _text(metadata, "task", 500),
            "files_sha256": sources, "imported_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "not_read": ignored[:200]}},
        "training": {"data": _text(metadata, "data_source", 1000) or "as described by the publisher",
                     "by": f"the publisher: {authors}" if authors else "the publisher"},
        "metrics": {"headline": {}, "publisher_claim": {
            "values": {str(k)[:64]: v for k, v in list(claims.items())[:32] if isinstance(v, (int, float, str))},
            "note": f"as published by {authors or 'the publisher'} in the bundle's metadata; not measured by RadView. "
                    "Measure it on your own labelled data: radview evaluate MODEL_DIR DATA"}},
        "intended_use": _text(metadata, "intended_use") or _text(metadata, "description"),
        "limitations": (f"Published model, imported by this site ({licence or 'licence: see the publisher'}). Its accuracy "
                        "at this site is unknown until measured with radview evaluate; " + NO_INPUT_CHECK + "."),
        "notice": f"Imported published model '{name}' {version} ({authors or 'publisher unknown'}); not measured by RadView.",
        "conformance": {"method": "none", "reason": NO_INPUT_CHECK},
    }
