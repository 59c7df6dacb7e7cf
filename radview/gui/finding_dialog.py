"""Edit a finding (type, sizes, location, composition, note), or describe a new manual one."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)

from radview.core.findings import CLINICAL_FINDING, MASS, NEOPLASM, NODULE, Finding

# The types a reader picks from (SNOMED CT, as pydicom's codedict names them).
FINDING_TYPES = (NODULE, MASS, NEOPLASM, CLINICAL_FINDING)
SIDES = ("", "left", "right")
COMPOSITIONS = ("", "solid", "part-solid", "ground-glass")


def _unit(name: str) -> str:
    for suffix, unit in (("_mm3", "mm³"), ("_mm", "mm"), ("_ml", "mL"), ("_hu", "HU")):
        if name.endswith(suffix):
            return unit
    return ""


class FindingDialog(QDialog):
    """A form over one finding; `changes()` gives the keyword arguments of Review.edit."""

    def __init__(self, finding: Finding, note: str = "", title: str = "Edit finding", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("findingDialog")
        self._finding = finding
        form = QFormLayout(self)
        self.type_box = QComboBox()
        types = list(FINDING_TYPES) + ([finding.finding_type] if finding.finding_type not in FINDING_TYPES else [])
        for code in types:
            self.type_box.addItem(code.meaning, code)
        self.type_box.setCurrentIndex(types.index(finding.finding_type))
        form.addRow("Type", self.type_box)
        self.sizes: dict[str, QDoubleSpinBox] = {}
        for name, value in finding.measurements.items():
            box = QDoubleSpinBox()
            box.setObjectName(f"measurement_{name}")
            box.setRange(-5000.0, 1e7)
            box.setDecimals(1)
            box.setSuffix(f" {_unit(name)}" if _unit(name) else "")
            box.setValue(float(value))
            form.addRow(name.replace("_", " "), box)
            self.sizes[name] = box
        self.side = QComboBox()
        self.side.addItems(SIDES)
        self.side.setCurrentText(finding.location.get("side", finding.location.get("hemisphere", "")))
        form.addRow("Side", self.side)
        self.region = QLineEdit(finding.location.get("lobe_region", finding.location.get("zone", "")))
        form.addRow("Region", self.region)
        self.composition = QComboBox()
        self.composition.addItems(COMPOSITIONS)
        self.composition.setCurrentText(finding.attributes.get("composition", ""))
        form.addRow("Composition", self.composition)
        self.note = QLineEdit(note)
        self.note.setObjectName("findingNote")
        self.note.setPlaceholderText("Free text for the report and the audit log")
        form.addRow("Note", self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def changes(self) -> dict:
        """finding_type, measurements, location, attributes and note as the reader left them."""
        f = self._finding
        location = {}
        side_key = "hemisphere" if "hemisphere" in f.location else "side"
        if self.side.currentText() or side_key in f.location:
            location[side_key] = self.side.currentText()
        region_key = "lobe_region" if "lobe_region" in f.location else "zone"
        if self.region.text() or region_key in f.location:
            location[region_key] = self.region.text()
        attributes = {"composition": self.composition.currentText()} if self.composition.currentText() else {}
        return {"finding_type": self.type_box.currentData(),
                "measurements": {name: round(box.value(), 1) for name, box in self.sizes.items()},
                "location": location, "attributes": attributes, "note": self.note.text()}
