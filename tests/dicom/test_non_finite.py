"""NaN and infinity from a file or a saved review: named, kept out of the geometry and the
report, and never printed as JSON that strict parsers refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from pydicom import config

from radview.dicom.info import index_as_dict
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series
from radview.workflow.session import StudySession


def _strict(text: str):
    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def nan_slices(demo_study, tmp_path, monkeypatch):
    """Ten CT slices; the sixth has a NaN position, the seventh an infinite pixel spacing."""
    monkeypatch.setattr(config.settings, "writing_validation_mode", config.IGNORE)
    out = tmp_path / "nan"
    out.mkdir()
    for n, path in enumerate(sorted((demo_study / "dicom" / "chest-ct").iterdir())[:10]):
        ds = pydicom.dcmread(path)
        if n == 5:
            ds["ImagePositionPatient"].value = ["nan", "0", "0"]
        if n == 6:
            ds["PixelSpacing"].value = ["inf", "0.7"]
        ds.save_as(out / f"IM{n:04d}")
    return out


def test_slices_with_nan_geometry_are_named_and_kept_out_of_the_volume(nan_slices):
    index = scan_path(nan_slices, parallel=False)
    series = index.patients[0].studies[0].series[0]
    stacks = split_series(series)
    assert len(stacks[0].images) == 8, "the volume holds only the slices it can place"
    assert all(image.position_mm is None for stack in stacks[1:] for image in stack.images)
    warning = stacks[0].warnings[-1]
    assert "IM0005" in warning and "IM0006" in warning and "not a finite number" in warning
    text = json.dumps(index_as_dict(index))
    _strict(text)  # no NaN or Infinity anywhere


def test_a_nan_diameter_in_a_saved_review_is_refused_by_name_and_the_file_kept(planted_ct, tmp_path):
    index, series, volume, result = planted_ct
    with StudySession.of_series(index, series, tmp_path, "Dr A") as first:
        first.add_series(series, volume)
        first.apply(first.request(result.card, series.series_instance_uid), result)
        path = first.workspace.review_path
    saved = json.loads(path.read_text())
    saved["findings"][0]["original"]["measurements"]["mean_diameter_mm"] = float("nan")
    path.write_text(json.dumps(saved))  # Python writes NaN: what a hand edit or another tool leaves

    with StudySession.of_series(index, series, tmp_path, "Dr B") as second:
        second.add_series(series, volume)
        assert "mean_diameter_mm is nan, not a finite number" in second.restore_problem
        assert not second.review.items and "nan" not in json.dumps(second.report.to_dict()).lower()
        assert list(Path(second.workspace.folder).glob("review.json.damaged-*")), "the damaged file is kept"
