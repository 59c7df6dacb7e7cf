"""File menu commands that move studies and results in and out: the PACS dialog and the
worklist's "open", DICOM export, send to PACS, import of a SEG or SR, de-identification. Long
work runs through the TaskRunner; every failure becomes a message naming the file or node,
never a crash."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from radview.core.overlays import LabelLayer, LabelStyle
from radview.core.pacs import PacsNode
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
        """PDF on the GUI thread (Qt text layout), the DICOM objects in a worker on copies."""
        session = self._session
        if session.report is None or session.context is None or session.review is None:
            self._status("Open a study first", 5000)
            return
        folder.mkdir(parents=True, exist_ok=True)
        try:
            session.export_pdf(folder / "report.pdf")
        except (OSError, ValueError) as error:
            show_error(self._window, "Export failed", readable(error), "Choose a folder you can write to.")
            return
        report, review = copy.deepcopy(session.report), copy.deepcopy(session.review)
        context, measurements, institution = session.context, dict(self._area.measurements), session.settings.institution
        audit, reader = session.workspace.audit_log(), session.settings.reader_name

        def work(ctx: TaskContext):
            from radview.workflow.dicom_results import export_dicom_results

            return export_dicom_results(report, context, review, folder / "report.pdf", folder, institution, measurements)

        def done(results) -> None:
            audit.record(reader, "export-dicom", detail=f"{folder}: {', '.join(p.name for p in results.files)}")
            self._status(f"Wrote {len(results.files)} DICOM object(s) to {folder}"
                         + (f" ({len(results.notes)} note(s) in the log)" if results.notes else ""), 10000)
            if then is not None:
                then(results)

        self._runner.run("Export DICOM results", work, done,
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
        audit, reader = self._session.workspace.audit_log(), self._session.settings.reader_name

        def send(results) -> None:
            def work(ctx: TaskContext) -> int:
                from radview.pacs.client import send_files
                return send_files(node, results.files, ctx.report, ctx.cancel)

            def sent(count: int) -> None:
                audit.record(reader, "send-results", detail=f"{count} object(s) to {node.describe()}")
                self._status(f"Stored {count} object(s) on {node.name}", 10000)

            self._runner.run(f"Sending to {node.name}", work, sent,
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
        from radview.dicom.seg_read import SegReadError, read_segmentation
        from radview.dicom.sr_read import SrReadError, read_measurement_report

        volume = self._area.volume
        try:
            import pydicom
            modality = str(pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["Modality"]).get("Modality", ""))
        except Exception as error:  # pydicom raises many types on a broken file (docs/facts.md)
            show_error(self._window, "Import failed", f"{path}: not a readable DICOM file ({error})")
            return
        try:
            if modality == "SEG":
                if volume is None:
                    raise SegReadError(f"{path}: open the series the SEG belongs to first")
                labels, segments = read_segmentation(path, volume)
                styles = {s.number: LabelStyle(s.label or f"segment {s.number}", SEGMENT_COLOURS[n % len(SEGMENT_COLOURS)])
                          for n, s in enumerate(segments)}
                self._area.add_label_layer(LabelLayer(f"SEG {path.name}", volume.series_instance_uid,
                                                      np.ascontiguousarray(labels), styles, 0.45))
                self._status(f"{path.name}: {len(segments)} segment(s) shown", 8000)
            elif modality == "SR":
                document = read_measurement_report(path)
                lines = [f"{g.tracking_identifier or '(no identifier)'}: "
                         f"{g.finding_type.meaning if g.finding_type else 'finding'}"
                         + (f", {g.finding_site.meaning}" if g.finding_site else "")
                         + (f" ({g.laterality.meaning})" if g.laterality else "") + ": "
                         + ", ".join(f"{k} {v:g}" for k, v in {**g.measurements, **g.other_measurements}.items())
                         for g in document.groups]
                QMessageBox.information(self._window, f"Measurement report {path.name}",
                                        f"{document.completion} / {document.verification}, observer "
                                        f"{', '.join(document.observer_names) or 'unknown'}\n\n" + "\n".join(lines or ["No findings."]))
            else:
                show_error(self._window, "Import failed", f"{path}: a {modality or 'non-SEG/SR'} object, not a SEG or SR")
        except (SegReadError, SrReadError) as error:
            show_error(self._window, "Import failed", str(error), "The file was not changed; nothing was added.")

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
            from radview.dicom.anonymize import anonymize_folder
            return anonymize_folder(source, out, progress=ctx.report, cancel=ctx.cancel)

        def done(result) -> None:
            left = "\n".join(f"{p.name}: {why}" for p, why in result.left_out[:20])
            QMessageBox.information(self._window, "De-identified copy written",
                                    f"{len(result.written)} file(s) written to {out}.\n\n"
                                    + (f"Left out ({len(result.left_out)}):\n{left}" if result.left_out else "Nothing left out."))

        self._runner.run("De-identifying", work, done, lambda e: show_error(self._window, "De-identification failed",
                                                                             readable(e)), key="anonymize")
