"""The brain-tumour post-processing keeps a large tumour whose uncertain margin lowers its mean
confidence, and still drops a small, unconfident region."""

from __future__ import annotations

import numpy as np

from radview.ai.datasets import Case, case_volume
from radview.ai.postprocess import brain_tumour_findings
from radview.ai.registry import find_models


def test_a_large_tumour_is_kept_below_min_confidence_a_small_region_is_not():
    card = next(c for c in find_models()[0] if c.id == "mr-brain-tumor")
    assert card.thresholds["min_confidence"] > 0.85 and card.thresholds["keep_volume_ml"] <= 40
    shape = (60, 128, 128)  # 1 mm voxels: 1 mL = 1000 voxels
    labels = np.zeros(shape, np.uint8)
    labels[10:50, 20:60, 20:60] = 1  # 64 mL: a large tumour
    labels[20:30, 90:100, 90:100] = 1  # 1 mL: a small region, as unconfident
    probability = np.where(labels == 1, 0.85, 0.99).astype(np.float16)
    volume = case_volume(Case("p", np.zeros(shape, np.float32), labels, (1.0, 1.0, 1.0)), "MR")
    findings, label_map = brain_tumour_findings(card, volume, labels, probability)
    assert len(findings) == 1
    assert abs(findings[0].measurements["volume_ml"] - 64.0) < 0.1
    assert label_map[30, 40, 40] == 1 and label_map[25, 95, 95] == 0
