"""File > PACS: choose a node, query studies, retrieve one into the cache and open it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from radview.core.pacs import PacsNode, StudyQuery, StudyRecord
from radview.core.settings import Settings, save_settings
from radview.gui.error_dialog import readable, show_error
from radview.gui.pacs_nodes_dialog import PacsNodesDialog
from radview.gui.workers import TaskContext, TaskRunner

COLUMNS = ("Date", "Patient", "Patient ID", "Modalities", "Accession", "Description", "Images")


class PacsDialog(QDialog):
    """Non-modal: the reader can keep reading while a retrieve runs (its progress is in the status bar)."""

    retrieved = Signal(object)  # Path of the study folder in the cache
    studies_found = Signal(object)  # list[StudyRecord], for the worklist

    def __init__(self, settings: Settings, settings_path: Path, cache: Path, runner: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PACS: find and retrieve")
        self.setObjectName("pacsDialog")
        self.settings, self.settings_path, self.cache, self.runner = settings, settings_path, Path(cache), runner
        self.records: list[StudyRecord] = []
        self.node_box = QComboBox()
        nodes_button, test_button = QPushButton("Nodes..."), QPushButton("Test connection")
        nodes_button.clicked.connect(self.edit_nodes)
        test_button.clicked.connect(lambda: self.test_connection(self.node()))
        self.query_fields = {name: QLineEdit() for name in
                             ("patient_name", "patient_id", "date_from", "date_to", "modality", "accession_number")}
        self.query_fields["patient_name"].setPlaceholderText("DOE* (wildcards allowed)")
        for name in ("date_from", "date_to"):
            self.query_fields[name].setPlaceholderText("YYYYMMDD")
        self.search_button, self.retrieve_button = QPushButton("Search"), QPushButton("Retrieve and open")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.doubleClicked.connect(self.retrieve_selected)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("PACS:"))
        top.addWidget(self.node_box, 1)
        top.addWidget(nodes_button)
        top.addWidget(test_button)
        form = QFormLayout()
        for name, widget in self.query_fields.items():
            form.addRow(name.replace("_", " ").capitalize().replace("Date from", "Study date from"), widget)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.search_button)
        buttons.addWidget(self.retrieve_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        self.resize(900, 600)
        self._fill_nodes()

    def _fill_nodes(self) -> None:
        self.node_box.clear()
        self.node_box.addItems([n.get("name", "?") for n in self.settings.pacs_nodes])
        if not self.settings.pacs_nodes:
            self.message.setText("No PACS node yet: add one with Nodes...")

    def node(self) -> PacsNode | None:
        name = self.node_box.currentText()
        return self.settings.pacs_node(name) if name else None

    def edit_nodes(self) -> None:
        nodes = [PacsNode.from_dict(n) for n in self.settings.pacs_nodes]
        dialog = PacsNodesDialog(nodes, self.test_connection, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.settings.pacs_nodes = [n.to_dict() for n in dialog.nodes()]
            save_settings(self.settings, self.settings_path)
            self._fill_nodes()

    def test_connection(self, node: PacsNode | None) -> None:
        if node is None:
            return

        def work(ctx: TaskContext) -> str:
            from radview.workflow.exchange import check_connection
            return check_connection(node)

        self.message.setText(f"Testing {node.describe()}...")
        self.runner.run(f"Testing {node.name}", work, self.message.setText, self._failed, key="pacs-echo")

    def query(self) -> StudyQuery:
        return StudyQuery(**{name: field.text().strip() for name, field in self.query_fields.items()})

    def search(self) -> None:
        node = self.node()
        if node is None:
            self.message.setText("Choose a PACS node first (Nodes...)")
            return
        query = self.query()

        def work(ctx: TaskContext) -> list[StudyRecord]:
            from radview.workflow.exchange import find_studies
            return find_studies(node, query)

        self.message.setText(f"Searching {node.name}...")
        self.runner.run(f"Searching {node.name}", work, self.show_records, self._failed, key="pacs-query")

    def show_records(self, records: list[StudyRecord]) -> None:
        self.records = records
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(records))
        for row, r in enumerate(records):
            values = (r.study_date, r.patient_name, r.patient_id, "/".join(r.modalities), r.accession_number,
                      r.description, "" if r.instances is None else str(r.instances))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, row)
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.message.setText(f"{len(records)} stud{'y' if len(records) == 1 else 'ies'} found")
        self.studies_found.emit(records)

    def selected_record(self) -> StudyRecord | None:
        items = self.table.selectedItems()
        return self.records[items[0].data(Qt.ItemDataRole.UserRole)] if items else None

    def retrieve_selected(self) -> None:
        record, node = self.selected_record(), self.node()
        if record is None or node is None:
            self.message.setText("Select a study first")
            return
        self.retrieve(node, record.study_instance_uid)

    def retrieve(self, node: PacsNode, study_uid: str) -> None:
        cache = self.cache

        def work(ctx: TaskContext) -> Path:
            from radview.workflow.exchange import retrieve_study
            return retrieve_study(node, study_uid, cache, ctx.report, ctx.cancel)

        def done(folder: Path) -> None:
            self.message.setText(f"Retrieved into {folder}")
            self.retrieved.emit(folder)

        self.message.setText(f"Retrieving {study_uid} from {node.name} (progress and cancel in the status bar)...")
        self.runner.run(f"Retrieving from {node.name}", work, done, self._failed, key="pacs-retrieve")

    def _failed(self, error: BaseException) -> None:
        self.message.setText(f"⚠ {readable(error)}")
        show_error(self, "PACS", readable(error), "Check the node's settings (Nodes...) and the network.")
