"""A real RadView window in its own process, for the crash-recovery test (tests/gui/test_crash_recovery.py).

`type FOLDER TEXT`: open FOLDER, type TEXT into the Impression with real key events, print TYPED.
`check FOLDER`: open FOLDER, print the Impression as restored from the workspace, quit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from radview.core.settings import Settings
from radview.gui.main_window import MainWindow


def main() -> None:
    mode, folder = sys.argv[1], sys.argv[2]
    app = QApplication(["radview"])
    window = MainWindow(Settings(run_models_on_open=False), Path(os.environ["RADVIEW_HOME"]) / "config" / "settings.json")
    window.show()

    def loaded(_volume) -> None:
        editor = window.report_editor.editors["impression"]
        if mode == "type":
            editor.setFocus()
            editor.moveCursor(editor.textCursor().MoveOperation.End)
            QTest.keyClicks(editor, sys.argv[3])
            print("TYPED", flush=True)
        else:
            print("IMPRESSION:" + " ".join(editor.toPlainText().split()), flush=True)
            app.quit()

    window.series_loaded.connect(lambda volume: QTimer.singleShot(50, lambda: loaded(volume)))
    window.open_path(folder)
    app.exec()


if __name__ == "__main__":
    main()
