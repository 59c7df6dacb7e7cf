"""File menu commands that move studies and results in and out: the PACS dialog and the
worklist's "open", DICOM export, send to PACS, import of a SEG or SR, de-identification. Long
work runs through the TaskRunner; every failure becomes a message naming the file or node,
never a crash."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from radview.core.overlays import LabelLayer, LabelStyle
from radview.core.pacs import PacsNode
from radview.core.study_lock import StudyInUse
from radview.user_dirs import data_dir
from radview.gui.error_dialog import readable, show_error
from radview.gui.pacs_dialog import PacsDialog
from radview.gui.workers import TaskContext, TaskRunner

SEGMENT_COLOURS = [(255, 140, 0, 255), (0, 200, 255, 255), (200, 80, 255, 255), (120, 255, 80, 255)]


class Exchange(QObject):
    """The handlers `action_pacs`, `action_export_dicom`, `action_send_results`,
    `action_import_results` and `action_anonymize` of the window's File menu, and the
    worklist's "open" (a cached study opens, a PACS-only one is retrieved first)."""

    def __init__(self, window, runner: TaskRunner, session, area, show_status, worklist) -> None:
        super().__init__(window)
        self._window, self._runner, self._session, self._area, self._status = window, runner, session, area, show_status
        self._worklist = worklist
        self.pacs_dialog: PacsDialog | None = None
        worklist.open_requested.connect(self._open_worklist_entry)

    # ----- PACS and worklist -----------------------------------------------------------------
    def action_pacs(self) -> None:
        if self.pacs_dialog is None:
            window = self._window
            self.pacs_dialog = PacsDialog(window.settings, window.settings_path, data_dir() / "cache", self._runner, window)
            self.pacs_dialog.retrieved.connect(lambda folder: (window.open_path(folder), self._worklist.refresh()))
            self.pacs_dialog.studies_found.connect(self._worklist.set_pacs_records)
        self.pacs_dialog.show()
        self.pacs_dialog.raise_()

    def _open_worklist_entry(self, entry) -> None:
        if entry.folder:
            self._window.open_path(entry.folder)
            return
        self.action_pacs()
        assert self.pacs_dialog is not None
        try:
            node = self._window.settings.pacs_node(entry.record.source)
        except KeyError as error:
            show_error(self._window, "Worklist", str(error.args[0]), "The node was removed from the settings.")
            return
        self.pacs_dialog.retrieve(node, entry.record.study_instance_uid)

    # ----- export and send --------------------------------------------------------------------
    def _export(self, folder: Path, then=None) -> None:
        """The PDF on the GUI thread (Qt text layout), the DICOM objects in a worker on a snapshot;
        both written and audited by radview.workflow.exports, as `radview analyze` writes them."""
        from radview.workflow.exports import dicom_export, record_dicom_export

        session = self._session.study
        if session is None:
            self._status("Open a study first", 5000)
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._session.export_pdf(folder / "report.pdf")
            job = dicom_export(session, folder, folder / "report.pdf", self._session.settings.institution,
                               self._area.measurements)
        except StudyInUse as refused:
            self._status(f"⚠ {refused}", 8000)
            return
        except (OSError, ValueError) as error:
            show_error(self._window, "Export failed", readable(error), "Choose a folder you can write to.")
            return

        def done(results) -> None:
            record_dicom_export(session, results)
            self._status(f"Wrote {len(results.files)} DICOM object(s) to {folder}"
                         + (f" ({len(results.notes)} note(s) in the log)" if results.notes else ""), 10000)
            if then is not None:
                then(results)

        self._runner.run("Export DICOM results", lambda ctx: job.write(), done,
                         lambda e: show_error(self._window, "DICOM export failed", readable(e)), key="export-dicom")

    def action_export_dicom(self) -> None:
        if self._session.workspace is None:
            self._status("Open a study first", 5000)
            return
        default = self._session.workspace.exports / "dicom"
        default.mkdir(parents=True, exist_ok=True)
        folder = QFileDialog.getExistingDirectory(self._window, "Export DICOM results into", str(default))
        if folder:
            self._export(Path(folder))

    def choose_node(self, title: str) -> PacsNode | None:
        nodes = [PacsNode.from_dict(n) for n in self._session.settings.pacs_nodes]
        if not nodes:
            show_error(self._window, title, "No PACS node is set up.", "Add one in File > PACS: Find and Retrieve > Nodes.")
            return None
        if len(nodes) == 1:
            return nodes[0]
        name, ok = QInputDialog.getItem(self._window, title, "PACS node:", [n.name for n in nodes], 0, False)
        return next((n for n in nodes if n.name == name), None) if ok else None

    def action_send_results(self) -> None:
        if self._session.workspace is None:
            self._status("Open a study first", 5000)
            return
        node = self.choose_node("Send results to PACS")
        if node is None:
            return
        session = self._session.study

        def send(results) -> None:
            from radview.workflow.exports import send_results

            self._runner.run(f"Sending to {node.name}",
                             lambda ctx: send_results(session, node, results.files, ctx.report, ctx.cancel),
                             lambda count: self._status(f"Stored {count} object(s) on {node.name}", 10000),
                             lambda e: show_error(self._window, "Sending failed", readable(e)), key="send-results")

        self._export(self._session.workspace.exports / "dicom", then=send)

    # ----- import -------------------------------------------------------------------------------
    def action_import_results(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._window, "Import a DICOM SEG or SR", "", "DICOM (*.dcm);;All files (*)")
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        """Show a SEG as a mask layer on the shown series, or an SR's findings as a summary.

        Another system's file is untrusted: any failure is a message naming it."""
        from radview.workflow.exchange import ResultImportError, import_result

        volume = self._area.volume
        try:
            result = import_result(path, volume)
        except ResultImportError as error:
            show_error(self._window, "Import failed", str(error), "The file was not changed; nothing was added.")
            return
        if result.labels is not None and volume is not None:
            styles = {number: LabelStyle(name, SEGMENT_COLOURS[n % len(SEGMENT_COLOURS)])
                      for n, (number, name) in enumerate(result.segment_names.items())}
            self._area.add_label_layer(LabelLayer(f"SEG {path.name}", volume.series_instance_uid, result.labels,
                                                  styles, 0.45))
            self._status(f"{path.name}: {len(result.segment_names)} segment(s) shown", 8000)
        else:
            QMessageBox.information(self._window, f"Measurement report {path.name}",
                                    f"{result.title}\n\n" + "\n".join(result.lines or ["No findings."]))

    # ----- de-identification -------------------------------------------------------------------
    def action_anonymize(self) -> None:
        source = QFileDialog.getExistingDirectory(self._window, "De-identify which DICOM folder?")
        if not source:
            return
        out = QFileDialog.getExistingDirectory(self._window, "Write the de-identified copy into (an empty folder)")
        if out:
            self.anonymize(Path(source), Path(out))

    def anonymize(self, source: Path, out: Path) -> None:
        def work(ctx: TaskContext):
            from radview.workflow.exchange import anonymize_folder
            return anonymize_folder(source, out, progress=ctx.report, cancel=ctx.cancel)

        def done(result) -> None:
            left = "\n".join(f"{p.name}: {why}" for p, why in result.left_out[:20])
            QMessageBox.information(self._window, "De-identified copy written",
                                    f"{len(result.written)} file(s) written to {out}.\n\n"
                                    + (f"Left out ({len(result.left_out)}):\n{left}" if result.left_out else "Nothing left out."))

        self._runner.run("De-identifying", work, done, lambda e: show_error(self._window, "De-identification failed",
                                                                             readable(e)), key="anonymize")
