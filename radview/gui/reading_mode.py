"""The image first: where the panels start, hiding them (F9), reading mode (F11), and the first
start filling the screen.

The panels start in one narrow column beside the views, tabbed: the study browser and the worklist
above, the findings, layers and report below. At 1600x1000 that leaves the views more than 70 % of
the window (a test measures it). F9 hides every panel and brings them back as they were; reading
mode is full screen with only the views and the findings, and F11 again puts everything back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow

PANEL_COLUMN_PX = 300  # the findings list still shows type, place and status at this width
BROWSER_SHARE = 0.35  # of the column's height: the browser above, the findings below


def arrange_docks(window: QMainWindow, above: list[QDockWidget], below: list[QDockWidget]) -> None:
    """One column on the left: `above` tabbed over `below` tabbed, the first of each in front."""
    area = Qt.DockWidgetArea.LeftDockWidgetArea
    window.addDockWidget(area, above[0])
    window.addDockWidget(area, below[0])  # under the first: a dock area stacks its docks
    for group in (above, below):
        for dock in group[1:]:
            window.tabifyDockWidget(group[0], dock)
        group[0].raise_()
    window.resizeDocks([above[0]], [PANEL_COLUMN_PX], Qt.Orientation.Horizontal)
    height = max(window.height(), 600)
    window.resizeDocks([above[0], below[0]], [int(height * BROWSER_SHARE), int(height * (1 - BROWSER_SHARE))],
                       Qt.Orientation.Vertical)


def show_on_screen(window: QMainWindow, first_start: bool) -> None:
    """Show the window: as it was left, or on the first start filling the screen's free area
    (maximised), so the images get the whole screen rather than a default-sized window."""
    if first_start:
        window.setGeometry(window.screen().availableGeometry())
        window.showMaximized()
    else:
        window.show()


class ReadingMode:
    """Handlers of View > Hide/Show Panels (F9) and View > Reading Mode (F11)."""

    def __init__(self, window: QMainWindow, findings: QDockWidget, actions: Callable[[], dict[str, QAction]]) -> None:
        self._window, self._findings, self._actions = window, findings, actions
        self._before_hiding: QByteArray | None = None  # the panels as they were before F9 hid them
        self._before_reading: tuple[QByteArray, Qt.WindowState] | None = None

    @property
    def reading(self) -> bool:
        return self._before_reading is not None

    def _docks(self) -> list[QDockWidget]:
        return self._window.findChildren(QDockWidget)

    def panels_shown(self) -> bool:
        """Whether any panel is open (a panel behind another one's tab counts)."""
        return any(not dock.isHidden() or dock.toggleViewAction().isChecked() for dock in self._docks())

    def action_toggle_docks(self) -> None:
        if self.reading:
            self.action_reading_mode()  # F9 in reading mode: back to the panels as they were
            return
        if self.panels_shown():
            self._before_hiding = self._window.saveState()
            for dock in self._docks():
                dock.hide()
        elif self._before_hiding is not None:
            self._window.restoreState(self._before_hiding)
            self._before_hiding = None
        else:  # the reader closed each panel by hand: F9 opens them all
            for dock in self._docks():
                dock.show()

    def action_reading_mode(self) -> None:
        window = self._window
        if self._before_reading is None:
            self._before_reading = (window.saveState(), window.windowState())
            for dock in self._docks():
                dock.setVisible(dock is self._findings)
            self._findings.raise_()
            window.menuBar().hide()
            window.statusBar().hide()
            window.showFullScreen()
        else:
            state, window_state = self._before_reading
            self._before_reading = None
            window.menuBar().show()
            window.statusBar().show()
            window.setWindowState(window_state)
            window.restoreState(state)
        self._actions()["reading_mode"].setChecked(self.reading)
