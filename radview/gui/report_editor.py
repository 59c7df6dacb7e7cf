"""The report editor: the header, one rich-text box per section, the nodule risk, sign-off.

The reader types in any section; from then on a new draft of that section waits behind a
"Use new draft" button instead of replacing the text. A signed report is shown read-only.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from radview.core.report import HEADER_FIELDS, SECTION_TITLES, Report


class ReportEditor(QWidget):
    """Shows a Report and reports the reader's edits; owns no state beyond what it shows."""

    section_edited = Signal(str, str)  # section name, html
    take_pending = Signal(str)  # section name
    risk_changed = Signal(str)  # "low" | "high"
    sign_requested = Signal()
    amend_requested = Signal()
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportEditor")
        self._filling = False
        self.header = QLabel("No study open")
        self.header.setObjectName("reportHeader")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel("")
        self.status.setObjectName("reportStatus")
        self.status.setWordWrap(True)  # "Preliminary — requires verification..." in a narrow column
        self.risk = QComboBox()
        self.risk.setObjectName("noduleRisk")
        self.risk.addItem("Nodule risk: low", "low")
        self.risk.addItem("Nodule risk: high", "high")
        self.risk.setToolTip("The reader's judgement of lung cancer risk (Fleischner 2017): smoking, family history, "
                             "emphysema, upper-lobe location, spiculation")
        self.risk.currentIndexChanged.connect(lambda _i: self._filling or self.risk_changed.emit(self.risk.currentData()))
        self.sign_button = QPushButton("Sign…")
        self.sign_button.setToolTip("Sign the report with your name and the time; it is locked afterwards")
        self.amend_button = QPushButton("Amend")
        self.amend_button.setToolTip("Start a new version of the signed report")
        self.export_button = QPushButton("Export PDF…")
        self.sign_button.clicked.connect(self.sign_requested)
        self.amend_button.clicked.connect(self.amend_requested)
        self.export_button.clicked.connect(self.export_requested)

        bar = QHBoxLayout()  # the risk above the buttons keeps the dock narrow beside the views
        for w in (self.sign_button, self.amend_button, self.export_button):
            bar.addWidget(w)
        bar.addStretch(1)
        body = QWidget()
        sections = QVBoxLayout(body)
        self.editors: dict[str, QTextEdit] = {}
        self.pending: dict[str, QWidget] = {}
        for name, title in SECTION_TITLES.items():
            sections.addWidget(QLabel(f"<b>{escape(title)}</b>"))
            banner = QWidget()
            row = QHBoxLayout(banner)
            row.setContentsMargins(0, 0, 0, 0)
            changed = QLabel("The findings changed since you edited this section.")
            changed.setWordWrap(True)  # the report shares a narrow column beside the views
            row.addWidget(changed, 1)
            use = QPushButton("Use new draft")
            use.setObjectName(f"usePending_{name}")
            use.clicked.connect(lambda _c=False, n=name: self.take_pending.emit(n))
            row.addWidget(use)
            row.addStretch(1)
            banner.hide()
            sections.addWidget(banner)
            editor = QTextEdit()
            editor.setObjectName(f"section_{name}")
            editor.setAcceptRichText(True)
            editor.setMinimumHeight(70)
            editor.textChanged.connect(lambda n=name: self._edited(n))
            sections.addWidget(editor)
            self.editors[name], self.pending[name] = editor, banner
        sections.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.status)
        layout.addWidget(self.risk)
        layout.addLayout(bar)
        layout.addWidget(scroll, 1)
        self.show_report(None)

    def show_report(self, report: Report | None, risk: str = "low") -> None:
        """Show `report` (None: nothing open). Does not emit section_edited."""
        self._filling = True
        try:
            self.risk.setCurrentIndex(max(0, self.risk.findData(risk)))
            if report is None:
                self.header.setText("No study open")
                self.status.setText("")
            else:
                self.header.setText("  ·  ".join(f"{label}: {report.header.get(key) or '—'}"
                                                 for key, label in HEADER_FIELDS.items()))
                self.status.setText(f"<b>{escape(report.status)}</b> — version {report.version}")
            for name, editor in self.editors.items():
                section = report.sections.get(name) if report else None
                html = section.html if section else ""
                if editor.toHtml() != html:
                    editor.setHtml(html)
                editor.setReadOnly(report is None or report.signed)
                self.pending[name].setVisible(bool(section and section.pending_html is not None))
            signed = bool(report and report.signed)
            self.sign_button.setEnabled(report is not None and not signed)
            self.amend_button.setEnabled(signed)
            self.export_button.setEnabled(report is not None)
            self.risk.setEnabled(report is not None and not signed)
        finally:
            self._filling = False

    def _edited(self, name: str) -> None:
        if not self._filling and not self.editors[name].isReadOnly():
            self.section_edited.emit(name, self.editors[name].toHtml())
