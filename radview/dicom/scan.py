"""Scan a folder (or a file, or a DICOMDIR) into a StudyIndex of patients, studies and series.

Headers only; files are never opened for writing. Parsing is pure Python and holds the GIL, so
large folders are parsed in worker processes (docs/facts.md: a thread slows the window,
a process does not). Every file that cannot be used is listed with a reason; none stops the scan.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Iterable
from pathlib import Path

import pydicom
from pydicom.fileset import FileSet

from radview.core.progress import CancelToken, ProgressCallback, report
from radview.core.study_index import Patient, Series, SkippedFile, Study, StudyIndex
from radview.dicom.header import FileHeader, HeaderError, describe_exception, read_file_header
from radview.dicom.header_cache import FileKey, HeaderCache, file_key
from radview.dicom.identity import PatientKey, flag_shared_uids, patient_keys
from radview.dicom.workers import shutdown_worker_pool, worker_pool

__all__ = ["scan_path", "shutdown_worker_pool", "list_candidate_files", "build_tree"]

# Below this many files a process pool costs more to start than it saves.
PARALLEL_MIN_FILES = 200
CHUNK_FILES = 32
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def list_candidate_files(root: Path, unreadable: list[SkippedFile] | None = None) -> list[Path]:
    """Every regular file under `root` (any suffix, DICOMDIR's referenced files included). Folders
    that cannot be listed are added to `unreadable` with why (os.walk would drop them silently)."""
    if root.is_file():
        if root.name.upper() == "DICOMDIR":
            return _files_of_dicomdir(root)
        return [root]
    files = []

    def cannot_list(error: OSError) -> None:
        if unreadable is not None:
            unreadable.append(SkippedFile(os.fspath(error.filename or root),
                                          f"folder cannot be read ({error.strerror or error}); its files were not scanned"))

    for folder, dirs, names in os.walk(root, onerror=cannot_list):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name in IGNORED_NAMES or name.startswith("."):
                continue
            path = Path(folder) / name
            if path.is_file():
                files.append(path)
    return files


def _files_of_dicomdir(path: Path) -> list[Path]:
    """Files a DICOMDIR references (PS3.10 media), resolved against its folder."""
    try:
        fileset = FileSet(pydicom.dcmread(path))
        files = [Path(instance.path) for instance in fileset]
    except Exception as exc:
        raise HeaderError(f"{path}: unreadable DICOMDIR: {describe_exception(exc)}") from exc
    return [f for f in files if f.is_file()]


def _read_chunk(paths: list[str]) -> list[FileHeader | SkippedFile]:
    results: list[FileHeader | SkippedFile] = []
    for path in paths:
        try:
            results.append(read_file_header(path))
        except HeaderError as exc:
            results.append(SkippedFile(path, str(exc)))
        except Exception as exc:  # never let one file stop the scan
            results.append(SkippedFile(path, f"unexpected error: {describe_exception(exc)}"))
    return results


def _read_all(
    paths: list[str], progress: ProgressCallback | None, cancel: CancelToken | None, parallel: bool | None,
    already: int = 0,
) -> Iterable[FileHeader | SkippedFile]:
    """Parse `paths` (`already` more files were served from the cache: progress counts them as done)."""
    chunks = [paths[i : i + CHUNK_FILES] for i in range(0, len(paths), CHUNK_FILES)]
    use_pool = parallel if parallel is not None else len(paths) >= PARALLEL_MIN_FILES
    total, done = already + len(paths), already
    if not use_pool:
        for chunk in chunks:
            if cancel:
                cancel.raise_if_cancelled()
            results = _read_chunk(chunk)
            done += len(chunk)
            report(progress, done, total, "Reading headers")
            yield from results
        return
    pool = worker_pool()
    futures = [pool.submit(_read_chunk, chunk) for chunk in chunks]
    try:
        for future in cf.as_completed(futures):
            if cancel:
                cancel.raise_if_cancelled()
            results = future.result()
            done += len(results)
            report(progress, done, total, "Reading headers")
            yield from results
    finally:
        for future in futures:
            future.cancel()


def scan_path(
    path: str | os.PathLike[str] | list[str | os.PathLike[str]],
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    parallel: bool | None = None,
    cache: HeaderCache | None = None,
) -> StudyIndex:
    """Scan a folder, file or DICOMDIR (or a list of them, as dropped on the window) into a
    StudyIndex (headers only).

    progress: called with Progress(done files, total files). cancel: checked between chunks;
    raises Cancelled. parallel: force worker processes on or off (default: by how many files
    must be parsed). cache: headers of files unchanged since an earlier scan are taken from it,
    and the headers parsed now are added to it.
    """
    roots = [Path(p) for p in path] if isinstance(path, list) else [Path(path)]
    files: list[str] = []
    unreadable: list[SkippedFile] = []
    for root in roots:
        if not root.exists():
            raise FileNotFoundError(f"{root}: no such file or folder")
        files.extend(os.fspath(p) for p in list_candidate_files(root, unreadable))
    files = list(dict.fromkeys(files))  # a file dropped beside its folder counts once
    report(progress, 0, len(files), "Reading headers")
    root_name = os.fspath(roots[0]) if len(roots) == 1 else os.path.commonpath([os.fspath(r) for r in roots])
    index = StudyIndex(root=root_name, file_count=len(files), skipped=unreadable)
    keys = _file_keys(files) if cache is not None else {}
    cached = cache.lookup(keys) if cache is not None else {}
    headers: list[FileHeader] = list(cached.values())
    parsed: list[FileHeader] = []
    for result in _read_all([f for f in files if f not in cached], progress, cancel, parallel, len(cached)):
        if isinstance(result, SkippedFile):
            index.skipped.append(result)
        else:
            parsed.append(result)
    if cache is not None:
        cache.store([(h, keys[h.path]) for h in parsed if h.path in keys], seen=cached)
    headers.extend(parsed)
    headers.sort(key=lambda h: h.path)
    index.patients = build_tree(headers)
    index.skipped.sort(key=lambda s: s.path)
    _drop_duplicate_instances(index)
    return index


def _file_keys(files: list[str]) -> dict[str, FileKey]:
    """Each file's cache key, taken before it is read: a change while it is read shows next time."""
    keys = {}
    for f in files:
        try:
            keys[f] = file_key(os.stat(f))
        except OSError:  # gone or unreadable: the parse names the problem
            pass
    return keys


def build_tree(headers: list[FileHeader]) -> list[Patient]:
    """Group file headers into patients -> studies -> series, sorted for display.

    Patients first: images are grouped by patient identity (radview.dicom.identity), then by
    StudyInstanceUID and SeriesInstanceUID within the patient. Images that share a study or series
    UID with another patient's images are never merged into one series: they are kept apart,
    and every part is flagged with the conflict so the browser, `info` and the report say so.
    """
    keys = patient_keys(headers)
    patients: dict[PatientKey, Patient] = {}
    studies: dict[tuple[PatientKey, str], Study] = {}
    series: dict[tuple[PatientKey, str, str], Series] = {}
    for h, key in zip(headers, keys, strict=True):
        patient = patients.setdefault(key, Patient(h.patient_id, h.patient_name, h.birth_date, h.sex))
        patient.birth_date = patient.birth_date or h.birth_date
        study = studies.get((key, h.study_instance_uid))
        if study is None:
            study = Study(
                h.study_instance_uid, h.study_date, h.study_time, h.study_description,
                h.accession_number, h.referring_physician,
            )
            studies[(key, h.study_instance_uid)] = study
            patient.studies.append(study)
        se = series.get((key, h.study_instance_uid, h.series_instance_uid))
        if se is None:
            se = Series(
                h.series_instance_uid, h.study_instance_uid, h.modality, h.series_number, h.series_description,
                h.series_date or h.study_date, h.series_time, h.body_part,
                h.frame_of_reference_uid, h.manufacturer,
            )
            series[(key, h.study_instance_uid, h.series_instance_uid)] = se
            study.series.append(se)
        se.images.extend(h.images)
    flag_shared_uids(patients, studies, series)
    for patient in patients.values():
        patient.studies.sort(key=lambda s: (s.date, s.time))
        for study in patient.studies:
            study.series.sort(key=lambda s: (s.series_number if s.series_number is not None else 1 << 30, s.description))
    return sorted(patients.values(), key=lambda p: (p.name, p.patient_id, p.birth_date))


def _drop_duplicate_instances(index: StudyIndex) -> None:
    """The same SOP instance found twice (a copy in another folder) is listed once, the copy skipped."""
    for series in index.all_series():
        seen: dict[tuple[str, int, int], str] = {}
        kept = []
        for image in series.images:
            tile = image.mosaic.index if image.mosaic is not None else 0  # the slices of a mosaic share a frame
            key = (image.sop_instance_uid, image.frame_index, tile)
            if key in seen and seen[key] != image.path:
                if image.frame_index == 0 and tile == 0:
                    index.skipped.append(SkippedFile(image.path, f"duplicate of {seen[key]} (same SOP Instance UID)"))
                continue
            seen[key] = image.path
            kept.append(image)
        series.images = kept
