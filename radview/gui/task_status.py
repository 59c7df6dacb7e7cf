"""The status bar's task area: one line per running task with progress and a cancel button."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from radview.gui.workers import Task, TaskRunner


class _TaskRow(QWidget):
    def __init__(self, task: Task, parent: QWidget) -> None:
        super().__init__(parent)  # born with a parent: a parentless widget steals window activation
        self.label = QLabel(task.name)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(140)
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.cancel = QToolButton()
        self.cancel.setText("✕")
        self.cancel.setToolTip(f"Cancel {task.name.lower()}")
        self.cancel.setObjectName("cancelTask")
        self.cancel.setEnabled(task.cancellable)
        self.cancel.clicked.connect(task.cancel)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel)


class TaskStatus(QWidget):
    """Follows a TaskRunner: rows appear when tasks start and go when they finish."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[int, _TaskRow] = {}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        runner.task_started.connect(self._started)
        runner.task_progressed.connect(self._progressed)
        runner.task_finished.connect(self._finished)

    def _started(self, task: Task) -> None:
        row = _TaskRow(task, self)
        self._rows[id(task)] = row
        self._layout.addWidget(row)

    def _progressed(self, task: Task) -> None:
        row = self._rows.get(id(task))
        if row is None or task.progress is None:
            return
        p = task.progress
        if p.total > 0:
            row.bar.setRange(0, p.total)
            row.bar.setValue(p.done)
        row.label.setText(f"{task.name}: {p.message}" if p.message else task.name)

    def _finished(self, task: Task) -> None:
        row = self._rows.pop(id(task), None)
        if row is not None:
            self._layout.removeWidget(row)
            row.deleteLater()
