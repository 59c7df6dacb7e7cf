"""`radview bench view`: how fast the viewer paints, against a bare pyqtgraph ImageItem.

It lives in radview.gui because it drives Qt directly (only radview.gui imports Qt).

One 512x512 int16 CT-like volume in a 1000x1000 view, offscreen, in one run: each case steps
through slices; after each step the event loop runs once, which paints everything the step
changed (image, overlays, corner texts) in one frame, as on screen. The
baseline is the docs/facts.md one: ImageItem.setImage + paint in a bare ViewBox, no overlays. The
launch case starts the real program and times the window's appearance.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

VIEW_PX = 1000
TARGETS_MS = {"step, axial, with a mask overlay": 5.0, "window/level drag redraw": 8.0}
LAUNCH_TARGET_S = 1.5


def _phantom(slices: int, size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(voxels int16 HU, labels uint8): a noisy body ellipse with a sphere labelled 1."""
    rng = np.random.default_rng(0)
    k, j, i = np.ogrid[0:slices, 0:size, 0:size]
    body = ((j - size / 2) / (size * 0.4)) ** 2 + ((i - size / 2) / (size * 0.45)) ** 2 <= 1
    voxels = np.where(body, 40, -1000).astype(np.int16) + rng.normal(0, 15, (slices, size, size)).astype(np.int16)
    sphere = (k - slices / 2) ** 2 * 4 + (j - size / 2) ** 2 + (i - size / 2) ** 2 <= (size / 5) ** 2
    return voxels, sphere.astype(np.uint8)


def _frames_ms(step: Callable[[int], None], paint: Callable[[], None], frames: int) -> list[float]:
    times = []
    for n in range(frames):
        start = time.perf_counter()
        step(n)
        paint()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _summary(times: list[float]) -> dict:
    ordered = sorted(times)
    median = statistics.median(ordered)
    return {"median_ms": round(median, 2), "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
            "fps": round(1000 / median, 0)}


def _launch_seconds(rounds: int) -> dict:
    """Start `radview --quit-after-shown` offscreen; seconds until it reports the window shown."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.setdefault("RADVIEW_HOME", os.path.join(os.path.expanduser("~"), ".cache", "radview-bench-home"))
    walls, inside = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "radview", "--quit-after-shown"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in proc.stdout:  # type: ignore[union-attr]
            if "window shown after" in line:
                walls.append(time.perf_counter() - start)
                inside.append(float(line.split("after")[1].split()[0]))
                break
        proc.wait(timeout=60)
    return {"median_s": round(statistics.median(walls), 3), "in_process_median_s": round(statistics.median(inside), 3),
            "rounds": rounds, "target_s": LAUNCH_TARGET_S, "torch_loaded": False}


def run_view_bench(frames: int = 300, slices: int = 200, launch_rounds: int = 3) -> dict:
    """Measure painting speed per case; return a dict (times in ms)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from radview.core.overlays import LabelLayer, LabelStyle
    from radview.core.planes import Plane
    from radview.core.volume import Volume
    from radview.core.windowing import WindowLevel
    from radview.gui.slice_view import SliceView

    app = QApplication.instance() or QApplication([])
    voxels, labels = _phantom(slices)
    volume = Volume(voxels, pixel_spacing_mm=(0.7, 0.7), slice_spacing_mm=1.25, modality="CT", value_unit="HU",
                    window_center=40, window_width=400, series_instance_uid="bench", slices_loaded=slices)
    results: dict[str, list[float]] = {}

    # baseline: a bare ViewBox with one ImageItem
    bare = pg.GraphicsView()
    box = pg.ViewBox(lockAspect=True, invertY=True)
    bare.setCentralItem(box)
    item = pg.ImageItem(axisOrder="row-major")
    box.addItem(item)
    bare.resize(VIEW_PX, VIEW_PX)
    bare.show()
    item.setImage(voxels[0], autoLevels=False, levels=(-160, 240))
    box.autoRange(padding=0)
    app.processEvents()
    results["baseline: bare ImageItem step"] = _frames_ms(
        lambda n: item.setImage(voxels[n % slices], autoLevels=False, levels=(-160, 240)), app.processEvents, frames
    )
    bare.close()

    def view_for(plane: Plane, with_mask: bool) -> SliceView:
        view = SliceView(plane)
        view.resize(VIEW_PX, VIEW_PX)
        view.show()
        view.set_volume(volume, "BENCH^PHANTOM")
        view.set_window(WindowLevel(400, 40))
        if with_mask:
            view.set_label_layers([LabelLayer("sphere", "bench", labels, {1: LabelStyle("sphere", (255, 60, 60, 255))})])
        app.processEvents()
        return view

    for name, plane, mask in (("step, axial", Plane.AXIAL, False), ("step, axial, with a mask overlay", Plane.AXIAL, True),
                              ("step, coronal, with a mask overlay", Plane.CORONAL, True)):
        view = view_for(plane, mask)
        count = view.slice_count
        start = count // 2 - min(count // 2, frames // 2)
        results[name] = _frames_ms(lambda n, v=view: v.set_index(start + n % count), app.processEvents, frames)
        view.close()

    view = view_for(Plane.AXIAL, True)
    view.set_index(slices // 2)
    drags = [(3.0, -2.0), (-3.0, 2.0)]
    results["window/level drag redraw"] = _frames_ms(
        lambda n: view._drag_window(*drags[n % 2]), app.processEvents, frames
    )
    view.close()

    base = statistics.median(results["baseline: bare ImageItem step"])
    cases = {}
    for name, times in results.items():
        row = _summary(times)
        row["ratio_to_baseline"] = round(statistics.median(times) / base, 2)
        if name in TARGETS_MS:
            row["target_ms"] = TARGETS_MS[name]
        cases[name] = row
    return {
        "view_px": VIEW_PX,
        "image": "512x512 int16",
        "frames_per_case": frames,
        "cpu_count": os.cpu_count(),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", ""),
        "cases": cases,
        "launch_to_window": _launch_seconds(launch_rounds) if launch_rounds else None,
    }


def format_view_table(report: dict) -> str:
    """The report as a plain-text table."""
    lines = [
        f"{report['image']} in a {report['view_px']}x{report['view_px']} view, {report['qt_platform']}, "
        f"{report['frames_per_case']} painted frames per case",
        f"{'case':38s} {'median':>8s} {'p95':>8s} {'fps':>6s} {'vs bare':>8s} {'target':>8s}",
    ]
    for name, row in report["cases"].items():
        target = f"<= {row['target_ms']:.0f}ms" if "target_ms" in row else ""
        lines.append(f"{name:38s} {row['median_ms']:>6.2f}ms {row['p95_ms']:>6.2f}ms {row['fps']:>6.0f} "
                     f"{row['ratio_to_baseline']:>7.2f}x {target:>8s}")
    launch = report.get("launch_to_window")
    if launch:
        lines.append(f"launch to window shown (radview --quit-after-shown): {launch['median_s']:.2f} s median of "
                     f"{launch['rounds']} (in-process {launch['in_process_median_s']:.2f} s; target <= {launch['target_s']} s)")
    return "\n".join(lines)
