"""`radview bench load`: RadView's loader against `cat`, pydicom and SimpleITK on one CT.

All contenders read the same generated 300-slice 512x512 uncompressed CT with the page cache
warm, in one run, several rounds each; the table gives medians and ratios to `cat`.
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
    from radview.dicom.load import iter_load
    from radview.dicom.scan import scan_path
    from radview.dicom.stacks import split_series

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

    def naive() -> np.ndarray:
        return np.stack([pydicom.dcmread(f).pixel_array for f in files])

    def simpleitk() -> np.ndarray:
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(folder))
        return sitk.GetArrayViewFromImage(reader.Execute()).copy()

    scan_times = _time(lambda: scan_path(folder), rounds)
    stack = split_series(scan_path(folder).all_series()[0])[0]
    first_slice_ms: list[float] = []

    def radview() -> None:
        start = time.perf_counter()
        for n, volume in enumerate(iter_load(stack)):
            if n == 0:
                first_slice_ms.append((time.perf_counter() - start) * 1000)

    results = {
        "cat": _time(cat, rounds),
        "pydicom dcmread + pixel_array": _time(naive, rounds),
        "SimpleITK ImageSeriesReader": _time(simpleitk, rounds),
        "RadView loader": _time(radview, rounds),
    }
    base = statistics.median(results["cat"])
    table = {
        name: {"median_ms": round(statistics.median(t) * 1000, 1), "ratio_to_cat": round(statistics.median(t) / base, 2)}
        for name, t in results.items()
    }
    memory = _peak_memory_child(folder)
    report = {
        "files": len(files),
        "bytes": sum(os.path.getsize(f) for f in files),
        "rounds": rounds,
        "cpu_count": os.cpu_count(),
        "contenders": table,
        "radview_scan_median_ms": round(statistics.median(scan_times) * 1000, 1),
        "radview_first_slice_median_ms": round(statistics.median(first_slice_ms), 2),
        "peak_memory": {
            **memory,
            "ratio_to_volume": round(memory["peak_growth_bytes"] / memory["volume_bytes"], 2),
            "target": "<= 1.5 x volume + 200 MB",
        },
    }
    if tmp is not None:
        tmp.cleanup()
    return report


def format_table(report: dict) -> str:
    """The report as a plain-text table."""
    lines = [
        f"{report['files']} files, {report['bytes'] / 1e6:.0f} MB, median of {report['rounds']} rounds, page cache warm",
        f"{'way of reading':36s} {'median':>10s} {'vs cat':>8s}",
    ]
    for name, row in report["contenders"].items():
        lines.append(f"{name:36s} {row['median_ms']:>8.1f}ms {row['ratio_to_cat']:>7.2f}x")
    lines.append(f"RadView header scan (before loading): {report['radview_scan_median_ms']} ms")
    lines.append(f"RadView first slice ready after:      {report['radview_first_slice_median_ms']} ms")
    m = report["peak_memory"]
    lines.append(
        f"Peak memory growth while loading:      {m['peak_growth_bytes'] / 1e6:.0f} MB for a "
        f"{m['volume_bytes'] / 1e6:.0f} MB volume ({m['ratio_to_volume']}x)"
    )
    return "\n".join(lines)
