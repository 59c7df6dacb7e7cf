"""Start the window: Qt application, theme, settings, log file, exception hook.

Only Qt and the viewer load here; torch and the models load later, in the background, so the
window appears quickly.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from radview.core.settings import load_settings
from radview.logs import setup_logging
from radview.user_dirs import settings_path

log = logging.getLogger("radview.gui")


AI_WAIT_LIMIT_S = 600  # --after-ai gives the models run on open this long to show their findings


def run_app(paths: list[str], screenshot: str | None = None, quit_after_shown: bool = False,
            after_ai: bool = False) -> int:
    """Open the window (on `paths` if given) and run until it closes; returns the exit status.

    screenshot: once the first series is on screen, save the window there (PNG).
    quit_after_shown: exit once it is on screen (smoke tests and time-to-window measurements).
    after_ai: for both, wait until the models run on open have shown their findings (the
    reading loop's main job on screen), at most AI_WAIT_LIMIT_S.
    """
    started = time.perf_counter()
    from PySide6.QtCore import QTimer

    path = settings_path()
    settings, problems = load_settings(path)
    app, window = start_window(settings, path)
    shown_s = time.perf_counter() - started
    log.info("window shown %.3f s after launch", shown_s)
    print(f"radview: window shown after {shown_s:.3f} s", flush=True)
    from radview.gui.error_dialog import show_error

    for problem in problems:
        show_error(window, "Settings", problem, "The defaults are used; saving settings will repair the file.")

    settled = _AiSettled(window) if after_ai and settings.run_models_on_open else None

    def first_series_shown(volume) -> None:
        # let Qt paint the first slice (or the findings) before the screenshot
        def proceed() -> None:
            QTimer.singleShot(300, lambda: _after_shown(window, screenshot, quit_after_shown))

        if settled is None:
            proceed()
        else:
            settled.then(proceed)

    if screenshot or quit_after_shown:
        window.series_shown.connect(first_series_shown)
        if not paths and quit_after_shown:
            QTimer.singleShot(0, app.quit)
    if paths:
        window.open_path(paths if len(paths) > 1 else paths[0])
    return app.exec()


def start_window(settings, path: Path | None = None):
    """The Qt application (themed, with the icon) and the shown main window: (app, window).

    Models warm up in the background after the first paint when the settings run them on open."""
    setup_logging()
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    import pyqtgraph as pg

    from radview.gui.error_dialog import install_exception_hook
    from radview.gui.main_window import MainWindow
    from radview.gui.reading_mode import show_on_screen
    from radview.gui.theme import apply_dark_theme
    from radview.resources import resource_path

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("RadView")
    app.setOrganizationName("RadView")
    app.setDesktopFileName("radview")  # Wayland/X11 match the window to radview.desktop and its icon
    icon = resource_path("radview.png")
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    apply_dark_theme(app)
    window = MainWindow(settings, path or settings_path())
    install_exception_hook(window)
    _quit_cleanly_on_sigterm(app, window)
    show_on_screen(window, window.first_start)  # the first start fills the screen
    if settings.run_models_on_open:
        QTimer.singleShot(300, window.warm_up_ai)  # after the first paint
    QTimer.singleShot(200, _start_scan_workers)
    return app, window


def _start_scan_workers() -> None:
    """The header-scan processes start while the reader picks a folder, not after (radview.dicom.workers)."""
    from radview.workflow.study_opening import start_scan_workers

    start_scan_workers()


def _quit_cleanly_on_sigterm(app, window) -> None:
    """SIGTERM (a session logout, `kill`) closes the window like Quit: settings are saved and the
    header-scan worker processes stop instead of being orphaned."""
    import signal

    from PySide6.QtCore import QTimer

    from radview.workflow.study_opening import stop_scan_workers

    app.aboutToQuit.connect(stop_scan_workers)
    signal.signal(signal.SIGTERM, lambda *_: QTimer.singleShot(0, window.close))
    # Python runs signal handlers only between bytecodes: a timer gives it regular chances
    keepalive = QTimer(app)
    keepalive.timeout.connect(lambda: None)
    keepalive.start(250)


class _AiSettled:
    """Calls back once the models run on open are done: the model search has run and no model
    run is left (the warm-up does not count), or AI_WAIT_LIMIT_S have passed."""

    def __init__(self, window) -> None:
        from PySide6.QtCore import QTimer

        self._window, self._searched, self._started = window, False, time.monotonic()
        self._callback = None
        window.runner.task_started.connect(self._task_started)
        self._timer = QTimer(window)
        self._timer.timeout.connect(self._check)

    def _task_started(self, task) -> None:
        if task.key == "ai:find":
            self._searched = True

    def then(self, callback) -> None:
        self._callback = callback
        self._timer.start(250)

    def _check(self) -> None:
        busy = any(t.key.startswith("ai:") and t.key != "ai:warmup" for t in self._window.runner.running())
        waited = time.monotonic() - self._started
        if (self._searched and not busy) or waited > AI_WAIT_LIMIT_S:
            self._timer.stop()
            if waited > AI_WAIT_LIMIT_S:
                log.warning("the models were not done within %d s; going on without their findings", AI_WAIT_LIMIT_S)
            self._callback()


def _after_shown(window, screenshot: str | None, quit_after_shown: bool) -> None:
    from PySide6.QtWidgets import QApplication

    if screenshot:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        # on a real display, take what the screen shows (proof the window is there); offscreen
        # has no screen contents, so render the widget instead
        on_screen = QApplication.platformName() not in ("offscreen", "minimal")
        pixmap = window.screen().grabWindow(window.winId()) if on_screen else window.grab()
        fd, partial = tempfile.mkstemp(prefix=".screenshot.", suffix=".png", dir=Path(screenshot).parent)
        os.close(fd)  # a unique name: two runs saving into one folder never share a temporary file
        pixmap.save(partial, "PNG")
        os.replace(partial, screenshot)  # whoever waits for the file never reads half of it
        print(f"radview: saved a screenshot of '{window.windowTitle()}' to {screenshot}", flush=True)
    if quit_after_shown:
        window.close()
        QApplication.instance().quit()
