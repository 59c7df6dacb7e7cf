"""The Fleischner Society 2017 table, cell by cell (docs/domain.md), and the size rule."""

from __future__ import annotations

import pytest

from radview.report.fleischner import GuidelineNodule, recommendation


def _solid(size_mm: float) -> GuidelineNodule:
    return GuidelineNodule(size_mm, size_mm)


@pytest.mark.parametrize(("count", "risk", "size", "expected"), [
    (1, "low", 5, "No routine follow-up"),
    (1, "low", 7, "CT at 6-12 months, then consider CT at 18-24 months"),
    (1, "low", 9, "Consider CT at 3 months, PET/CT or tissue sampling"),
    (1, "high", 5, "Optional CT at 12 months"),
    (1, "high", 7, "CT at 6-12 months, then CT at 18-24 months"),
    (1, "high", 9, "Consider CT at 3 months, PET/CT or tissue sampling"),
    (2, "low", 5, "No routine follow-up"),
    (2, "low", 7, "CT at 3-6 months, then consider CT at 18-24 months"),
    (2, "low", 12, "CT at 3-6 months, then consider CT at 18-24 months"),
    (2, "high", 5, "Optional CT at 12 months"),
    (2, "high", 8, "CT at 3-6 months, then at 18-24 months"),
    (2, "high", 12, "CT at 3-6 months, then at 18-24 months"),
])
def test_solid_nodules(count, risk, size, expected):
    nodules = [_solid(size)] + [_solid(4)] * (count - 1)
    assert recommendation(nodules, risk).startswith(expected)


@pytest.mark.parametrize(("nodules", "expected"), [
    ([GuidelineNodule(5, 5, "ground-glass")], "No routine follow-up"),
    ([GuidelineNodule(7, 7, "ground-glass")], "CT at 6-12 months to confirm persistence, then CT every 2 years"),
    ([GuidelineNodule(5, 5, "part-solid")], "No routine follow-up"),
    ([GuidelineNodule(7, 6, "part-solid")], "CT at 3-6 months to confirm persistence; if unchanged"),
    ([GuidelineNodule(5, 5, "part-solid"), GuidelineNodule(4, 4, "ground-glass")], "CT at 3-6 months; if stable, consider CT at 2 and 4 years"),
    ([GuidelineNodule(9, 7, "part-solid"), GuidelineNodule(4, 4, "solid")], "CT at 3-6 months; further management based on the most suspicious"),
])
def test_subsolid_nodules(nodules, expected):
    assert recommendation(nodules, "low").startswith(expected)


def test_size_is_the_rounded_mean_of_long_and_short_axes():
    assert GuidelineNodule(6.4, 5.5).size_mm == 6  # 5.95 -> 6: the 6-8 mm column
    assert GuidelineNodule(6.0, 4.9).size_mm == 5  # 5.45 -> 5: below 6 mm
    assert GuidelineNodule(9.0, 8.0).size_mm == 9  # 8.5 -> 9: above 8 mm
    assert recommendation([GuidelineNodule(9.0, 8.0)], "low").startswith("Consider CT at 3 months")


def test_the_guideline_names_its_limits_and_young_patients_are_excluded():
    text = recommendation([_solid(7)], "low")
    assert "Fleischner Society 2017" in text and "lung cancer screening" in text
    assert "does not apply" in recommendation([_solid(7)], "low", age_years=30)
    with pytest.raises(ValueError):
        recommendation([_solid(7)], "medium")
