"""The main window: menus, study browser, views, layers, findings review, report and status bar.

It drives the same services as the command line: scan_path -> split_series -> iter_load, run
through the TaskRunner so the window never waits on them.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QWidget,
)

from radview.core.dicom_text import dicom_date
from radview.core.overlays import LabelLayer, MarkerLayer
from radview.core.progress import Progress
from radview.core.settings import Settings, save_settings
from radview.core.study_index import StudyIndex
from radview.core.volume import Volume
from radview.gui.about_box import show_about
from radview.gui.actions import build_actions
from radview.gui.error_dialog import readable, show_error
from radview.gui.exchange import Exchange
from radview.gui.finding_navigation import FindingNavigation
from radview.gui.findings_panel import FindingsPanel
from radview.gui.hanging_protocol_menu import HangingProtocols
from radview.gui.layers_panel import LayersPanel
from radview.gui.model_runs import ModelRuns
from radview.gui.reading_mode import ReadingMode, arrange_docks
from radview.gui.report_editor import ReportEditor
from radview.gui.review_dock import ReviewDock
from radview.gui.monitor_dialog import MonitorDialog
from radview.gui.shortcuts_dialog import ShortcutsDialog
from radview.gui.study_browser import StudyBrowser, patient_name
from radview.gui.session_view import SessionView
from radview.gui.task_status import TaskStatus
from radview.viewer.tools import Tool
from radview.gui.view_commands import ViewCommands
from radview.gui.viewer_area import ViewerArea
from radview.gui.workers import TaskContext, TaskRunner
from radview.gui.worklist_dock import WorklistDock
from radview.user_dirs import data_dir
from radview.workflow.study_opening import Stack, iter_load, reading_stack, scan, stack_thumbnail

log = logging.getLogger("radview.gui")
CLOSE_WAIT_MS = 15_000  # how long closing waits for cancelled background tasks to end


def _b64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _unb64(text: str) -> QByteArray:
    try:
        return QByteArray(base64.b64decode(text.encode("ascii"), validate=True))
    except ValueError:
        return QByteArray()


class MainWindow(QMainWindow):
    """One study at a time; the views, browser and layers follow it."""

    series_shown = Signal(object)  # Volume, once its first slice is on screen
    series_loaded = Signal(object)  # Volume, once every slice is in
    model_finished = Signal(object)  # ModelResult of one model on the shown series
    index_scanned = Signal(object)  # StudyIndex

    def __init__(self, settings: Settings, settings_path: Path) -> None:
        super().__init__()
        self.settings = settings
        self.settings_path = settings_path
        self.setWindowTitle("RadView")
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.runner = TaskRunner(self)
        self.index: StudyIndex | None = None
        self.stack: Stack | None = None
        self.volume: Volume | None = None

        self.area = ViewerArea()
        self.area.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCentralWidget(self.area)
        self.browser = StudyBrowser()
        self.layers_panel = LayersPanel()
        self.findings_panel = FindingsPanel()
        self.report_editor = ReportEditor()
        show_status = lambda text, ms: self.statusBar().showMessage(text, ms)  # noqa: E731
        self.session = SessionView(self.area, self.findings_panel, self.report_editor, settings, data_dir(), self,
                                   show_status)
        self.review_dock = ReviewDock(self.findings_panel, self.session, self.area)
        self.worklist = WorklistDock(data_dir() / "cache", data_dir(), settings, self.runner)
        self.exchange = Exchange(self, self.runner, self.session, self.area, show_status, self.worklist)
        studies = self._dock(self.browser, "Studies", "studiesDock")
        worklist = self._dock(self.worklist, "Worklist", "worklistDock")
        worklist.visibilityChanged.connect(self.worklist.shown)
        findings = self._dock(self.review_dock, "Findings", "findingsDock")
        layers = self._dock(self.layers_panel, "Layers", "layersDock")
        report = self._dock(self.report_editor, "Report", "reportDock")
        # one narrow column, tabbed: the views get the window (radview.gui.reading_mode)
        arrange_docks(self, [studies, worklist], [findings, layers, report])

        self.cursor_label = QLabel("")
        self.cursor_label.setObjectName("cursorReadout")
        self.statusBar().addWidget(self.cursor_label, 1)
        self.task_status = TaskStatus(self.runner)
        self.statusBar().addPermanentWidget(self.task_status)

        self.view_commands = ViewCommands(self.area, lambda: self.actions_, show_status)
        self.protocols = HangingProtocols(self.area, self.view_commands, settings, lambda: self.actions_,
                                          self.save_settings, show_status)
        self.navigation = FindingNavigation(self.area, self.findings_panel, show_status)
        self.reading_mode = ReadingMode(self, findings, lambda: self.actions_)
        self.actions_ = build_actions(self, self.area, self._handler)
        self.review_dock.bind(self.actions_)
        self.report_editor.sign_requested.connect(self.actions_["sign_report"].trigger)
        self.report_editor.amend_requested.connect(self.actions_["amend_report"].trigger)
        self.report_editor.export_requested.connect(self.actions_["export_pdf"].trigger)
        self.recent_menu = self.menuBar().actions()[0].menu().addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.actions_[f"layout_{settings.view_layout}"].setChecked(True)
        self.actions_["tool_crosshair"].setChecked(True)
        self.area.set_layout(settings.view_layout)

        self.browser.stack_activated.connect(self.load_stack)
        self.area.cursor_text.connect(self.cursor_label.setText)
        self.area.layers_changed.connect(self._refresh_layers_panel)
        self.area.marker_clicked.connect(lambda mid: self.statusBar().showMessage(f"Marker {mid} selected", 3000))
        self.layers_panel.changed.connect(self.area.overlays_changed)
        self.layers_panel.go_to_marker.connect(self.area.go_to_marker)
        self.session.changed.connect(self.layers_panel.refresh_statuses)  # "(pending)" becomes "(accepted)"
        self.models = ModelRuns(self.runner, self.session, settings, self, show_status)
        self.models.finished.connect(self.model_finished.emit)
        self.first_start = not settings.window_state.get("geometry")
        self._restore_window_state()
        if self.first_start:  # the screen's free area; radview.gui.app shows it maximised
            self.setGeometry(self.screen().availableGeometry())

    def _dock(self, widget: QWidget, title: str, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        return dock

    # ----- opening ---------------------------------------------------------------------------
    def open_path(self, path: str | Path | list[str]) -> None:
        """Scan a folder, file or DICOMDIR (or dropped files) in the background, then show it."""
        paths = [str(p) for p in path] if isinstance(path, list) else [str(path)]
        if len(paths) == 1:
            folder = paths[0] if Path(paths[0]).is_dir() else str(Path(paths[0]).parent)
            self.settings.add_recent_folder(folder)
        name = Path(paths[0]).name if len(paths) == 1 else f"{len(paths)} files"
        self.runner.run(
            f"Scanning {name}",
            lambda ctx: scan(paths if len(paths) > 1 else paths[0], progress=ctx.report, cancel=ctx.cancel),
            self._scanned,
            lambda exc: show_error(self, "Cannot open", f"{paths[0]}: {readable(exc)}",
                                   "Check that the folder exists and that you may read it."),
            key="scan",
        )

    def _scanned(self, index: StudyIndex) -> None:
        self.index = index
        self.browser.show_index(index)
        self.index_scanned.emit(index)
        skipped = f"; {len(index.skipped)} files skipped (see the browser)" if index.skipped else ""
        self.statusBar().showMessage(f"{index.file_count} files scanned{skipped}", 8000)
        if not self.browser.stacks:
            show_error(self, "No images", f"{index.root}: no DICOM images were found{skipped}.",
                       "Choose a folder that holds DICOM files (or a DICOMDIR).")
            return
        self.load_stack(reading_stack(self.browser.stacks))
        self._make_thumbnails(self.browser.stacks)  # the browser makes a new list per scan

    def _make_thumbnails(self, stacks: list[Stack]) -> None:
        def work(ctx: TaskContext) -> None:
            for n, stack in enumerate(stacks):
                ctx.cancel.raise_if_cancelled()
                try:
                    ctx.partial((n, stack_thumbnail(stack)))
                except Exception as exc:  # a thumbnail is a nicety; the load reports the real error
                    log.warning("no thumbnail for %s: %s", stack.description, exc)

        def show(result: tuple[int, np.ndarray]) -> None:
            if self.browser.stacks is stacks:  # a newer scan replaced the list: drop
                self.browser.set_thumbnail(*result)

        self.runner.run("Thumbnails", work, lambda _: None, lambda exc: None, on_partial=show, key="thumbnails")

    def load_stack(self, stack: Stack) -> None:
        """Load a stack progressively: the first slice shows at once, the rest fills in."""
        self.stack = stack
        self.browser.select_stack(stack)

        def work(ctx: TaskContext) -> Volume:
            volume = None
            for volume in iter_load(stack, ctx.cancel):
                ctx.partial(volume)
                ctx.report(_progress(volume))
            return volume

        self.runner.run(
            f"Loading {stack.description}",
            work,
            self._loaded,
            lambda exc: show_error(self, "Cannot load series", f"{stack.description}: {readable(exc)}",
                                   "Other series of the study can still be opened from the browser."),
            on_partial=self._partial_volume,
            key="load",
        )

    def _partial_volume(self, volume: Volume) -> None:
        if volume is not self.volume:
            self.volume = volume
            # laid out for its kind: layout, planes, window and the slice each pane starts on
            self.protocols.show(volume, self._header_text())
            self.area.setFocus()
            self.setWindowTitle(f"RadView — {self._patient_title()}")
            self._refresh_layers_panel()
            self.series_shown.emit(volume)
        else:
            self.area.volume_grew()

    def _loaded(self, volume: Volume) -> None:
        self.area.volume_complete()
        if self.stack is not None and volume.warnings:
            self.browser.add_warnings(self.stack, volume.warnings)
            self.statusBar().showMessage("⚠ " + "; ".join(volume.warnings), 15000)
        if self.index is not None and self.stack is not None:
            self.session.series_loaded(self.index, self.stack, volume)
        self.series_loaded.emit(volume)
        if self.settings.run_models_on_open:
            self.run_models()

    def _patient_title(self) -> str:
        if self.index is None or self.stack is None:
            return ""
        patient = self.index.patient_of(self.stack.series)
        return f"{patient_name(patient.name)} ({patient.patient_id}) — {self.stack.description}"

    def _header_text(self) -> str:
        if self.index is None or self.stack is None:
            return ""
        patient = self.index.patient_of(self.stack.series)
        study = self.index.study_of(self.stack.series)
        born = dicom_date(patient.birth_date) or "?"
        date = dicom_date(study.date)
        return (f"{patient_name(patient.name)}\nID {patient.patient_id}  {patient.sex or '?'}  born {born}\n"
                f"{date}  {study.description}")

    # ----- AI ------------------------------------------------------------------------------
    def warm_up_ai(self) -> None:
        self.models.warm_up()

    def run_models(self) -> None:
        """Run the models that apply to the shown series (once it is fully loaded)."""
        volume, stack = self.volume, self.stack
        if volume is not None and stack is not None and volume.slices_loaded == volume.shape[0]:
            self.models.run_applicable(volume, stack.description)

    # ----- overlays (the API the AI results use) --------------------------------------------
    def add_label_layer(self, layer: LabelLayer) -> None:
        self.area.add_label_layer(layer)

    def add_marker_layer(self, layer: MarkerLayer) -> None:
        self.area.add_marker_layer(layer)

    def _refresh_layers_panel(self) -> None:
        self.layers_panel.show_layers(self.area.layers())

    # ----- drag and drop ---------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt naming)
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls()]
        if paths:
            event.acceptProposedAction()
            self.open_path(paths if len(paths) > 1 else paths[0])

    # ----- settings --------------------------------------------------------------------------
    def _restore_window_state(self) -> None:
        state = self.settings.window_state
        if state.get("geometry"):
            self.restoreGeometry(_unb64(state["geometry"]))
        if state.get("state"):
            self.restoreState(_unb64(state["state"]))

    def save_settings(self) -> None:
        self.settings.window_state = {"geometry": _b64(self.saveGeometry()), "state": _b64(self.saveState())}
        self.settings.view_layout = self.area.layout_name
        try:
            save_settings(self.settings, self.settings_path)
        except OSError as exc:
            log.error("cannot save settings to %s: %s", self.settings_path, exc)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.area.stop_cine()
        self.runner.cancel_all()
        # a model stops within one batch; quitting before its thread ends printed "Signal source
        # has been deleted" tracebacks as it reported into the deleted window
        if not self.runner.wait_for_all(CLOSE_WAIT_MS):
            log.warning("background tasks still running %d ms after cancel at close", CLOSE_WAIT_MS)
        self.session.close_study()  # the draft is on disk before the window goes
        if self.reading_mode.reading:  # keep the panels as they were before reading mode, not hidden
            self.reading_mode.action_reading_mode()
        self.save_settings()
        super().closeEvent(event)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for folder in self.settings.recent_folders:
            self.recent_menu.addAction(folder, lambda f=folder: self.open_path(f))
        if not self.settings.recent_folders:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    # ----- action handlers (names from radview.gui.actions.ACTIONS) --------------------------
    def _handler(self, name: str) -> Callable[[], None]:
        """The slot of an action: preset_N, layout_X and tool_X share one method each; the rest
        are `action_<name>`."""
        kind, _, argument = name.partition("_")
        if kind == "preset":
            return lambda: self.view_commands.preset(int(argument))
        if kind == "layout":
            return lambda: self.view_commands.layout(argument)
        if kind == "tool":
            return lambda: self.view_commands.tool(Tool(argument))
        owners = (self, self.view_commands, self.review_dock, self.exchange, self.navigation, self.protocols,
                  self.reading_mode)
        owner = next(o for o in owners if hasattr(o, f"action_{name}"))
        return getattr(owner, f"action_{name}")

    def action_open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open DICOM folder", self.settings.last_folder or str(Path.home()))
        if folder:
            self.open_path(folder)

    def action_open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open DICOM files", self.settings.last_folder or str(Path.home()))
        if files:
            self.open_path(files if len(files) > 1 else files[0])

    def action_quit(self) -> None:
        self.close()

    def action_run_models(self) -> None:
        if self.volume is None:
            self.statusBar().showMessage("Open a series first", 3000)
            return
        self.run_models()

    def action_run_model_by_hand(self) -> None:
        volume = self.volume
        if volume is None or volume.slices_loaded != volume.shape[0]:
            self.statusBar().showMessage("Open a series and let it load first", 3000)
            return
        self.models.run_by_hand(volume)

    def action_shortcuts(self) -> None:
        ShortcutsDialog(self).open()

    def action_monitoring(self) -> None:
        MonitorDialog(data_dir(), self.runner, self).open()

    def action_about(self) -> None:
        show_about(self, self.settings, self.settings_path, self.runner)


def _progress(volume: Volume) -> Progress:
    return Progress(volume.slices_loaded, volume.shape[0], "slices")
