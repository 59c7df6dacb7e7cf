"""The Worklist dock: studies in the cache and the last PACS search, in AI triage order."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from radview.core.pacs import StudyRecord
from radview.core.worklist import OVERDUE, WorklistEntry, study_datetime_utc, triage_order
from radview.gui.error_dialog import readable
from radview.gui.workers import TaskContext, TaskRunner

COLUMNS = ("Waiting", "Patient", "Patient ID", "Study date", "Modality", "Description", "AI", "Report", "Where")


class _Item(QTableWidgetItem):
    """A cell that sorts by a key (waiting minutes as a number, not as text)."""

    def __init__(self, text: str, key: object) -> None:
        super().__init__(text)
        self.key = key

    def __lt__(self, other: QTableWidgetItem) -> bool:  # Qt calls this when the reader sorts a column
        return self.key < other.key if isinstance(other, _Item) else super().__lt__(other)


def waiting_text(minutes: float) -> str:
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h" if minutes < 48 * 60 else f"{minutes / 1440:.0f} d"


class WorklistDock(QWidget):
    """Rows in triage order until the reader sorts by a column; "Triage order" puts it back."""

    open_requested = Signal(object)  # WorklistEntry

    def __init__(self, cache: Path, data_root: Path, settings, runner: TaskRunner) -> None:
        super().__init__()
        self.setObjectName("worklist")
        self.cache, self.data_root, self.settings, self.runner = Path(cache), Path(data_root), settings, runner
        self.local: list[WorklistEntry] = []
        self.remote: list[WorklistEntry] = []
        self.entries: list[WorklistEntry] = []
        self._read_once = False
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(True)
        self.table.doubleClicked.connect(self._open_selected)
        self.status = QLabel("")
        refresh, triage, analyse = QPushButton("Refresh"), QPushButton("Triage order"), QPushButton("Run AI on new studies")
        refresh.clicked.connect(self.refresh)
        triage.clicked.connect(self.show_entries)
        analyse.clicked.connect(self.analyse_new)
        buttons = QGridLayout()  # two rows: the dock shares a narrow column with the study browser
        buttons.addWidget(refresh, 0, 0)
        buttons.addWidget(triage, 0, 1)
        buttons.addWidget(analyse, 1, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        # waiting times grow and studies become overdue while nobody touches the list
        self._clock = QTimer(self)
        self._clock.setInterval(60_000)
        self._clock.timeout.connect(self._tick)
        self._clock.start()

    def _tick(self) -> None:
        if self.entries and self.table.horizontalHeader().sortIndicatorSection() < 0:
            self.show_entries()  # keep a column sort the reader chose; refresh only the triage view

    def shown(self, visible: bool) -> None:
        """The first time the tab is shown, read the cache (in a worker: nothing at start-up)."""
        if visible and not self._read_once:
            self._read_once = True
            self.refresh()

    def refresh(self) -> None:
        """Re-read the cache (headers and workspaces) in a worker."""
        from radview.workflow.worklist import cached_studies

        cache, data_root = self.cache, self.data_root
        self.runner.run("Reading the worklist", lambda ctx: cached_studies(cache, data_root), self._local_read,
                        lambda e: self.status.setText(f"⚠ {readable(e)}"), key="worklist")

    def _local_read(self, entries: list[WorklistEntry]) -> None:
        self.local = entries
        local_uids = {e.record.study_instance_uid for e in entries}
        self.remote = [e for e in self.remote if e.record.study_instance_uid not in local_uids]
        self.show_entries()

    def set_pacs_records(self, records: list[StudyRecord]) -> None:
        """The last PACS search joins the list (studies already in the cache are listed once)."""
        local_uids = {e.record.study_instance_uid for e in self.local}
        now = datetime.now(timezone.utc)
        self.remote = [WorklistEntry(r, study_datetime_utc(r) or now) for r in records
                       if r.study_instance_uid not in local_uids]
        self.show_entries()

    def show_entries(self) -> None:
        """Fill the table in triage order."""
        now = datetime.now(timezone.utc)
        limit = self.settings.worklist_max_wait_minutes
        self.entries = triage_order(self.local + self.remote, limit, now)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(self.entries))
        for row, e in enumerate(self.entries):
            ai = e.ai_summary
            values = (waiting_text(e.waited_minutes(now)), e.record.patient_name, e.record.patient_id, e.record.study_date,
                      "/".join(e.record.modalities), e.record.description, ai, "signed" if e.signed else "",
                      "cache" if e.folder else e.record.source)
            for column, value in enumerate(values):
                item = _Item(value, e.waited_minutes(now) if column == 0 else value.lower())
                item.setData(Qt.ItemDataRole.UserRole, row)
                if column == 0 and e.tier(now, limit) == OVERDUE and not e.signed:
                    item.setToolTip(f"Waited past {limit} min: moved ahead of AI-positive studies")
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(row, column, item)
        # no sort indicator: enabling sorting would otherwise re-sort by column 0 at once
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        unread = sum(1 for e in self.entries if not e.signed)
        self.status.setText(f"{unread} unread of {len(self.entries)}; AI-positive first, none waits over {limit} min "
                            "behind them. Triage orders; it does not diagnose.")

    def selected(self) -> WorklistEntry | None:
        items = self.table.selectedItems()
        return self.entries[items[0].data(Qt.ItemDataRole.UserRole)] if items else None

    def _open_selected(self) -> None:
        entry = self.selected()
        if entry is not None:
            self.open_requested.emit(entry)

    def analyse_new(self) -> None:
        """Run the models on cached studies none has seen, then re-sort."""
        from radview.workflow.worklist import analyze_unread

        entries, data_root, settings = list(self.local), self.data_root, self.settings

        def work(ctx: TaskContext) -> tuple[int, list[str]]:
            return analyze_unread(entries, data_root, settings.device, settings.model_folders, ctx.report, ctx.cancel)

        def done(result: tuple[int, list[str]]) -> None:
            count, left_out = result
            self.status.setText(f"AI ran on {count} new stud{'y' if count == 1 else 'ies'}"
                                + (f"; left for later: {'; '.join(left_out)}" if left_out else ""))
            self.show_entries()

        self.runner.run("AI triage", work, done, lambda e: self.status.setText(f"⚠ {readable(e)}"), key="worklist-ai")
