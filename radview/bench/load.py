"""`radview bench load`: opening a folder, RadView against `cat`, dcm2niix, pydicom and SimpleITK.

The headline is what a reader waits for: from the folder to the volume (header scan + load,
`open_ratio_to_cat`) and from the call to the first displayable slice (`first_image_ms`), each
without and with the header cache (radview.dicom.header_cache). Every contender starts from the
same folder, a generated 300-slice 512x512 uncompressed CT, page cache warm, in one run, several
rounds each; the table gives medians and ratios to `cat`. A second folder of 3,000 small files
in 10 series times the header scan alone (radview.bench.scan_many).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def _time(fn: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _peak_memory_child(folder: str) -> dict:
    """Load in a fresh process; report the peak of memory allocated while loading (tracemalloc,
    which numpy reports its buffers to) against the volume's bytes."""
    code = (
        "import tracemalloc, sys, json\n"
        "from radview.dicom.scan import scan_path\n"
        "from radview.dicom.stacks import split_series\n"
        "from radview.dicom.load import load_stack\n"
        "stack = split_series(scan_path(sys.argv[1], parallel=False).all_series()[0])[0]\n"
        "tracemalloc.start()\n"
        "v = load_stack(stack)\n"
        "peak = tracemalloc.get_traced_memory()[1]\n"
        "print(json.dumps({'volume_bytes': v.nbytes, 'peak_growth_bytes': peak}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, folder], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_load_bench(rounds: int = 5, slices: int = 300, folder: str | None = None) -> dict:
    """Measure the contenders; return a dict of results (times in ms)."""
    import pydicom
    import SimpleITK as sitk

    from radview.demo.identity import synthetic_patient
    from radview.demo.writer import write_chest_ct
    from radview.bench.scan_many import scan_many_files
    from radview.dicom.header_cache import HeaderCache
    from radview.dicom.load import iter_load
    from radview.dicom.scan import scan_path
    from radview.dicom.stacks import split_series
    from radview.workflow.study_opening import reading_stack

    tmp = None
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="radview-bench-")
        root = Path(tmp.name)
        write_chest_ct(synthetic_patient(1), root, root, slices=slices)
        folder = str(root / "chest-ct")
    files = sorted(str(p) for p in Path(folder).iterdir() if p.is_file())
    subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)  # warm the page cache

    def cat() -> None:
        subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)

    def naive() -> np.ndarray:  # every file read whole, sorted along the patient axis, stacked
        datasets = [pydicom.dcmread(f) for f in files]
        datasets.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
        return np.stack([ds.pixel_array for ds in datasets])

    def simpleitk() -> np.ndarray:
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
        return sitk.GetArrayViewFromImage(reader.Execute()).copy()

    nifti_out = tempfile.TemporaryDirectory(prefix="radview-bench-nifti-")
    dcm2niix = _dcm2niix()

    def to_nifti() -> None:  # dcm2niix's whole job: scan, sort, write an uncompressed NIfTI
        subprocess.run([dcm2niix, "-z", "n", "-b", "n", "-w", "1", "-o", nifti_out.name, folder],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    cache_dir = tempfile.TemporaryDirectory(prefix="radview-bench-cache-")
    cache = HeaderCache(Path(cache_dir.name) / "headers.sqlite")
    scan_path(folder)  # the worker processes start once per application, not per folder
    first_image_ms: dict[str, list[float]] = {"no cache": [], "cache": []}

    def radview_open(use_cache: bool) -> Callable[[], None]:
        def run() -> None:  # folder -> first displayable slice -> whole volume, as the window opens it
            start = time.perf_counter()
            index = scan_path(folder, cache=cache if use_cache else None)
            stack = reading_stack(split_series(index.all_series()[0]))
            for n, _volume in enumerate(iter_load(stack)):
                if n == 0:
                    first_image_ms["cache" if use_cache else "no cache"].append((time.perf_counter() - start) * 1000)
        return run

    scan_path(folder, cache=cache)  # fills the cache: the "cache" rounds are a folder opened again
    stack = split_series(scan_path(folder).all_series()[0])[0]
    results = {
        "cat": _time(cat, rounds),
        "dcm2niix (to NIfTI)": _time(to_nifti, rounds) if dcm2niix else [],
        "pydicom dcmread + sort + pixel_array": _time(naive, rounds),
        "SimpleITK ImageSeriesReader": _time(simpleitk, rounds),
        "RadView open (scan + load)": _time(radview_open(False), rounds),
        "RadView open, header cache warm": _time(radview_open(True), rounds),
        "RadView header scan alone": _time(lambda: scan_path(folder), rounds),
        "RadView load alone (after the scan)": _time(lambda: [None for _ in iter_load(stack)], rounds),
    }
    nifti_out.cleanup()
    cache.close()
    cache_dir.cleanup()
    base = statistics.median(results["cat"])
    table = {
        name: {"median_ms": round(statistics.median(t) * 1000, 1), "ratio_to_cat": round(statistics.median(t) / base, 2)}
        for name, t in results.items() if t
    }
    memory = _peak_memory_child(folder)
    report = {
        "files": len(files),
        "bytes": sum(os.path.getsize(f) for f in files),
        "rounds": rounds,
        "cpu_count": os.cpu_count(),
        "contenders": table,
        "open_ratio_to_cat": table["RadView open (scan + load)"]["ratio_to_cat"],
        "open_ratio_to_cat_cached": table["RadView open, header cache warm"]["ratio_to_cat"],
        "first_image_ms": round(statistics.median(first_image_ms["no cache"]), 1),
        "first_image_ms_cached": round(statistics.median(first_image_ms["cache"]), 1),
        "targets": {"open_ratio_to_cat": "<= 2", "first_image_ms": "<= 150", "scan_3000_files_s": "<= 1"},
        "many_files": scan_many_files(rounds=max(1, min(rounds, 3))),
        "peak_memory": {
            **memory,
            "ratio_to_volume": round(memory["peak_growth_bytes"] / memory["volume_bytes"], 2),
            "target": "<= 1.5 x volume + 200 MB",
        },
    }
    if tmp is not None:
        tmp.cleanup()
    return report


def _dcm2niix() -> str | None:
    """The dcm2niix executable beside this Python (the pip package) or on PATH; None if absent."""
    import shutil

    beside = Path(sys.executable).parent / "dcm2niix"
    return str(beside) if beside.exists() else shutil.which("dcm2niix")


def format_table(report: dict) -> str:
    """The report as a plain-text table."""
    lines = [
        f"{report['files']} files, {report['bytes'] / 1e6:.0f} MB, median of {report['rounds']} rounds, page cache warm",
        f"{'from the folder to the volume':40s} {'median':>10s} {'vs cat':>8s}",
    ]
    for name, row in report["contenders"].items():
        lines.append(f"{name:40s} {row['median_ms']:>8.1f}ms {row['ratio_to_cat']:>7.2f}x")
    lines.append(f"open / cat: {report['open_ratio_to_cat']}x, header cache warm {report['open_ratio_to_cat_cached']}x "
                 f"(target {report['targets']['open_ratio_to_cat']})")
    lines.append(f"first image after: {report['first_image_ms']} ms, header cache warm {report['first_image_ms_cached']} ms "
                 f"(target {report['targets']['first_image_ms']})")
    many = report["many_files"]
    lines.append(f"{many['files']} files in {many['series']} series: header scan {many['scan_s']} s, header cache warm "
                 f"{many['scan_cached_s']} s, cat {many['cat_s']} s (target {report['targets']['scan_3000_files_s']} s)")
    m = report["peak_memory"]
    lines.append(
        f"Peak memory growth while loading:      {m['peak_growth_bytes'] / 1e6:.0f} MB for a "
        f"{m['volume_bytes'] / 1e6:.0f} MB volume ({m['ratio_to_volume']}x)"
    )
    return "\n".join(lines)
