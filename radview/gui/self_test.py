"""`radview --self-test`: the packaged build's smoke test, in a real window.

It writes the demo study (RadView's own phantoms, seed 0) into a temporary folder, opens the
chest CT in the window, runs the models on it, accepts their findings, exports the report PDF
into the same temporary folder and exits 0; any failure or a time-out exits 1 with the reason.
Settings, workspaces and logs go to that temporary folder too: the user's are not touched, and
nothing needs the network.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

TIMEOUT_S = 600


def run_self_test(keep: str | None = None) -> int:
    """Returns the exit status; `keep`: a folder to leave the demo study and PDF in (else a temp one)."""
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="radview-self-test-"))
    os.environ["RADVIEW_HOME"] = str(folder / "home")  # before anything reads the user folders
    started = time.perf_counter()

    def say(text: str) -> None:
        print(f"self-test {time.perf_counter() - started:6.1f} s: {text}", flush=True)

    from radview.demo.writer import write_demo_studies

    write_demo_studies(folder / "demo", seed=0)
    say(f"demo study written to {folder / 'demo'}")

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from radview.core.settings import Settings
    from radview.gui.app import start_window

    app, window = start_window(Settings(run_models_on_open=True, reader_name="RadView self-test"))
    say(f"window shown ({QApplication.platformName()})")
    outcome: dict[str, object] = {"status": 1}

    def finish(status: int, text: str) -> None:
        if "done" in outcome:
            return
        outcome.update(done=True, status=status)
        say(("PASSED: " if status == 0 else "FAILED: ") + text)
        window.close()
        app.quit()

    def model_finished(result) -> None:
        say(f"{result.card.id} {result.card.version}: {len(result.findings)} finding(s) on {result.device.upper()}"
            + (f" ({'; '.join(result.notes)})" if result.notes else ""))
        if result.card.id != "ct-nodule":
            return
        try:
            session = window.session
            for item in session.review.findings():
                session.accept(item.original.id)
            pdf = folder / "self-test-report.pdf"
            pages = session.export_pdf(pdf)
            if not pdf.read_bytes().startswith(b"%PDF") or pages < 1:
                raise RuntimeError(f"{pdf} is not a PDF")
            say(f"report PDF written: {pdf} ({pages} page(s), {pdf.stat().st_size // 1024} KiB)")
            finish(0 if result.findings else 1, "the AI found the planted nodules and the report was exported"
                   if result.findings else "the AI found none of the planted nodules")
        except Exception as error:  # the smoke test reports every failure as its result
            finish(1, f"{type(error).__name__}: {error}")

    window.series_loaded.connect(lambda volume: say(f"{volume.modality} series loaded: {volume.shape[0]} slices"))
    window.model_finished.connect(model_finished)
    window.runner.task_failed.connect(lambda task, error: finish(1, f"{task.name}: {type(error).__name__}: {error}"))
    QTimer.singleShot(TIMEOUT_S * 1000, lambda: finish(1, f"not done within {TIMEOUT_S} s"))
    window.open_path(folder / "demo" / "dicom" / "chest-ct")
    app.exec()
    if not keep and outcome["status"] == 0:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return int(outcome["status"])
