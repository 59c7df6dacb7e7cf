"""How a series was acquired, in the terms a model's card names its inputs by.

MR sequence (FLAIR, T1, T2, PD, DWI, STIR, T2*), image plane (axial, coronal, sagittal) and
the radiograph's view. Read from the DICOM attributes each image carries; the rules and their
sources are in docs/domain.md ("MR sequences").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

FLAIR, T1, T2, PD, DWI, STIR, T2_STAR, UNKNOWN = "FLAIR", "T1", "T2", "PD", "DWI", "STIR", "T2*", "unknown"


@dataclass(frozen=True)
class Acquisition:
    """The acquisition attributes of one image (DICOM keyword in the comment); "" or None = absent."""

    scanning_sequence: str = ""  # (0018,0020) e.g. "SE\\IR"
    sequence_name: str = ""  # (0018,0024), or PulseSequenceName (0018,9005) of enhanced MR
    inversion_recovery: str = ""  # (0018,9009) YES / NO, enhanced MR
    inversion_time_ms: float | None = None  # (0018,0082)
    echo_time_ms: float | None = None  # (0018,0081)
    repetition_time_ms: float | None = None  # (0018,0080)
    diffusion_b_value: float | None = None  # (0018,9087)
    protocol_name: str = ""  # (0018,1030)
    convolution_kernel: str = ""  # (0018,1210) CT reconstruction kernel
    contrast_agent: str = ""  # (0018,0010) ContrastBolusAgent
    view_position: str = ""  # (0018,5101) PA, AP, LL ...


def _words(text: str) -> str:
    return " " + re.sub(r"[^A-Z0-9*]+", " ", text.upper()) + " "


def _by_description(text: str) -> str:
    """The sequence a series description (or protocol name) names, if it names one."""
    words = _words(text)
    if any(k in words for k in (" DWI ", " DIFFUSION ", " ADC ", " TRACE ", " DTI ", " EP2D DIFF ")):
        return DWI
    if "FLAIR" in words or " DARK FLUID " in words or " DARKFLUID " in words:
        # "T1 FLAIR" is T1-weighted inversion recovery, not the T2-weighted FLAIR
        return T1 if re.search(r" T1[A-Z]* ", words) else FLAIR
    if " STIR " in words or " TIRM " in words:
        return STIR
    if any(k in words for k in (" MPRAGE ", " MP RAGE ", " SPGR ", " FSPGR ", " BRAVO ", " TFL ", " VIBE ")):
        return T1
    if re.search(r" T1[A-Z]* ", words) or " T1W " in words:
        return T1
    if any(k in words for k in (" SWI ", " T2* ", " T2STAR ", " GRE T2 ", " HEMO ")):
        return T2_STAR
    if re.search(r" T2[A-Z]* ", words):
        return T2
    if re.search(r" PD[A-Z]* ", words) or " PROTON DENSITY " in words:
        return PD
    return UNKNOWN


def _by_parameters(a: Acquisition) -> str:
    """The sequence the physics says, from the weighting rules of docs/domain.md."""
    if a.diffusion_b_value is not None and a.diffusion_b_value > 0:
        return DWI
    name = a.sequence_name.lower()
    if "ep_b" in name or "diff" in name:
        return DWI
    # an inversion time is itself evidence of inversion recovery (some writers leave ScanningSequence SE)
    inversion = ("IR" in a.scanning_sequence.upper().split("\\") or a.inversion_recovery.upper() == "YES"
                 or (a.inversion_time_ms is not None and a.inversion_time_ms > 0))
    ti, te, tr = a.inversion_time_ms, a.echo_time_ms, a.repetition_time_ms
    if inversion and ti is not None:
        if ti >= 1500:
            return FLAIR  # fluid nulled: TI about 1800-2800 ms
        if ti <= 300:
            return STIR  # fat nulled: TI about 120-250 ms
        return T1  # TI about 600-1300 ms: MPRAGE, T1-FLAIR
    if te is None or tr is None:
        return UNKNOWN
    gradient = "GR" in a.scanning_sequence.upper().split("\\")
    if gradient and te >= 15:
        return T2_STAR  # gradient echo with a long TE: susceptibility weighting
    if tr < 800 and te < 30:
        return T1
    if tr >= 1500 and te >= 70:
        return T2
    if tr >= 1500 and te < 35:
        return PD
    return UNKNOWN


# (named, measured) pairs that agree: FLAIR, DWI and STIR are T2-weighted, so TR/TE alone (no
# inversion time, no b-value in the header) read them as T2
_COMPATIBLE = {(FLAIR, T2), (DWI, T2), (STIR, T2)}


def mr_sequence(acquisition: Acquisition, description: str = "") -> tuple[str, str]:
    """(sequence, how it was told) of an MR series. When the description and the parameters
    disagree the answer is "unknown", and the explanation names both."""
    # the series description, else the protocol name, else the (pulse) sequence name ("T1TFE")
    sources = [("the series description", description), ("the protocol name", acquisition.protocol_name),
               ("the sequence name", acquisition.sequence_name)]
    named, source = UNKNOWN, ""
    for field_name, text in sources:
        named = _by_description(text)
        if named != UNKNOWN:
            source = f"{field_name} '{text}'"
            break
    measured = _by_parameters(acquisition)
    if named != UNKNOWN and measured != UNKNOWN and named != measured and (named, measured) not in _COMPATIBLE:
        return UNKNOWN, f"{source} says {named} but TR/TE/TI say {measured}"
    if named != UNKNOWN:
        return named, f"from {source}"
    if measured != UNKNOWN:
        return measured, "from TR/TE/TI and the scanning sequence"
    return UNKNOWN, "neither the description nor TR/TE/TI name the sequence"


def image_plane(normal: np.ndarray) -> str:
    """"axial", "coronal" or "sagittal": the patient axis (LPS) closest to the slice normal."""
    n = np.abs(np.asarray(normal, float))
    return ("sagittal", "coronal", "axial")[int(np.argmax(n))]
