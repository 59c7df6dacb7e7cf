"""The header cache: a folder opened again is not parsed again, and a changed file never keeps
its old identity (a patient's name must come from the file as it is now)."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pydicom
import pytest

import radview.dicom.scan as scan_module
from radview.dicom.header_cache import HeaderCache
from radview.dicom.scan import scan_path


@pytest.fixture
def small_ct(demo_study: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "ct"
    folder.mkdir()
    for f in sorted((demo_study / "dicom" / "chest-ct").iterdir())[:6]:
        shutil.copy(f, folder / f.name)
    return folder


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    real = scan_module.read_file_header

    def counting(path):
        parsed.append(path)
        return real(path)

    monkeypatch.setattr(scan_module, "read_file_header", counting)
    return parsed


def _index_as_values(index) -> list:
    return [(p.patient_id, p.name, [(s.series_instance_uid, [vars(i) for i in s.images]) for st in p.studies
                                    for s in st.series]) for p in index.patients]


def test_a_folder_opened_again_is_served_from_the_cache_unchanged(small_ct, tmp_path, monkeypatch):
    cache = HeaderCache(tmp_path / "cache.sqlite")
    first = scan_path(small_ct, cache=cache, parallel=False)
    parsed = _count_parses(monkeypatch)
    again = scan_path(small_ct, cache=cache, parallel=False)
    assert parsed == []  # every header came from the cache
    assert _index_as_values(again) == _index_as_values(first)
    assert _index_as_values(again) == _index_as_values(scan_path(small_ct, parallel=False))  # as a fresh parse


def test_a_file_replaced_by_another_patients_with_the_same_size_and_mtime_is_read_again(small_ct, tmp_path, monkeypatch):
    cache = HeaderCache(tmp_path / "cache.sqlite")
    scan_path(small_ct, cache=cache, parallel=False)
    target = sorted(small_ct.iterdir())[2]
    ds = pydicom.dcmread(target)
    other_id = "X" * len(str(ds.PatientID))  # same length: the file keeps its size
    ds.PatientID = other_id
    replacement = tmp_path / "replacement.dcm"
    ds.save_as(replacement)
    before = target.stat()
    os.replace(replacement, target)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` or a careless tool leaves it
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    parsed = _count_parses(monkeypatch)
    index = scan_path(small_ct, cache=cache, parallel=False)
    assert parsed == [str(target)]  # only the changed file, and it is
    assert other_id in {p.patient_id for p in index.patients}


def test_a_file_rewritten_in_place_is_read_again(small_ct, tmp_path, monkeypatch):
    cache = HeaderCache(tmp_path / "cache.sqlite")
    scan_path(small_ct, cache=cache, parallel=False)
    target = sorted(small_ct.iterdir())[0]
    before = target.stat()
    target.write_bytes(target.read_bytes())  # same bytes, same inode: the change time moves
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    parsed = _count_parses(monkeypatch)
    scan_path(small_ct, cache=cache, parallel=False)
    assert parsed == [str(target)]


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_planted_pickle_in_the_cache_runs_nothing_and_the_scan_reads_the_files(small_ct, tmp_path):
    cache_path = tmp_path / "cache.sqlite"
    cache = HeaderCache(cache_path)
    scan_path(small_ct, cache=cache, parallel=False)
    marker = tmp_path / "payload-ran"
    db = cache._connect()
    db.execute("UPDATE headers SET header = ?", (pickle.dumps(_Payload(marker)),))
    index = scan_path(small_ct, cache=cache, parallel=False)
    assert not marker.exists()
    assert len(index.all_series()[0].images) == 6


def test_a_corrupt_cache_file_does_not_stop_the_scan_and_is_replaced(small_ct, tmp_path, monkeypatch):
    cache_path = tmp_path / "cache.sqlite"
    cache_path.write_bytes(b"not a database" * 100)
    index = scan_path(small_ct, cache=HeaderCache(cache_path), parallel=False)
    assert len(index.all_series()[0].images) == 6 and not index.skipped
    parsed = _count_parses(monkeypatch)
    scan_path(small_ct, cache=HeaderCache(cache_path), parallel=False)
    assert parsed == []  # the new cache serves the next scan
