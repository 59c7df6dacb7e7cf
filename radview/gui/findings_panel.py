"""The findings list: every AI finding with type, place, size, confidence, model and status.

Selecting one centres the views on it. The review (accept / edit / reject) builds on this list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from radview.core.findings import Finding

FINDING_ROLE = Qt.ItemDataRole.UserRole + 1


def describe_size(finding: Finding) -> str:
    """The size as a reader quotes it: diameters in mm, volumes in mL or mm3."""
    m = finding.measurements
    parts = []
    if "mean_diameter_mm" in m:
        parts.append(f"{m['mean_diameter_mm']:.0f} mm")
    elif "longest_diameter_mm" in m:
        parts.append(f"{m['longest_diameter_mm']:.0f} mm")
    elif "approximate_diameter_mm" in m:
        parts.append(f"~{m['approximate_diameter_mm']:.0f} mm")
    if "volume_ml" in m:
        parts.append(f"{m['volume_ml']:.1f} mL")
    elif "volume_mm3" in m:
        parts.append(f"{m['volume_mm3']:.0f} mm³")
    return ", ".join(parts)


class FindingsPanel(QTreeWidget):
    """One row per finding; `finding_selected` carries the Finding."""

    finding_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findingsList")
        self.setHeaderLabels(["Finding", "Where", "Size", "Conf.", "Model", "Status"])
        self.setRootIsDecorated(False)
        self.setToolTip("AI findings are suggestions to verify, never a diagnosis. Click one to go to it.")
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.findings: list[Finding] = []
        self.currentItemChanged.connect(self._current_changed)

    def add_findings(self, findings: list[Finding]) -> None:
        for finding in findings:
            where = ", ".join(v for v in finding.location.values() if v)
            image = f"image {finding.instance_number or finding.slice_index + 1}"
            item = QTreeWidgetItem(self, [
                finding.finding_type.meaning, f"{where} ({image})" if where else image, describe_size(finding),
                f"{finding.confidence:.2f}", f"{finding.model_id} {finding.model_version}", "unreviewed",
            ])
            item.setData(0, FINDING_ROLE, len(self.findings))
            self.findings.append(finding)

    def clear_findings(self) -> None:
        self.clear()
        self.findings = []

    def _current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        if current is not None:
            self.finding_selected.emit(self.findings[current.data(0, FINDING_ROLE)])
