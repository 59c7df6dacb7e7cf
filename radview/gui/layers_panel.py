"""The layers panel: show/hide mask and marker layers, opacity and fill/outline, go to a marker."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPixmap, QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QSlider,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from radview.core.overlays import LabelLayer, MarkerLayer, MaskStyle

LAYER_ROLE = Qt.ItemDataRole.UserRole + 1
MARKER_ROLE = Qt.ItemDataRole.UserRole + 2


def _swatch(rgba: tuple[int, int, int, int]) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(*rgba[:3]))
    return QIcon(pixmap)


class LayersPanel(QWidget):
    """Lists the shown series' layers; edits change the layer objects, then `changed` fires."""

    changed = Signal()
    go_to_marker = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setObjectName("layersTree")
        self.tree.setHeaderLabels(["Layer"])
        self.tree.setToolTip("Tick to show a layer; double-click a marker to go to it")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the selected mask layer")
        self.style_box = QComboBox()
        self.style_box.addItems([s.value for s in MaskStyle])
        self.style_box.setToolTip("Draw the selected mask filled or as an outline")
        form = QFormLayout()
        form.addRow("Opacity", self.opacity)
        form.addRow("Style", self.style_box)
        column = QVBoxLayout(self)
        column.setContentsMargins(2, 2, 2, 2)
        column.addWidget(self.tree, 1)
        column.addLayout(form)
        self._layers: list[LabelLayer | MarkerLayer] = []
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.tree.currentItemChanged.connect(lambda *_: self._sync_controls())
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.style_box.currentTextChanged.connect(self._style_changed)
        self._sync_controls()

    def show_layers(self, layers: list[LabelLayer | MarkerLayer]) -> None:
        self._layers = list(layers)
        self.tree.blockSignals(True)
        self.tree.clear()
        for n, layer in enumerate(self._layers):
            item = QTreeWidgetItem(self.tree, [layer.name])
            item.setData(0, LAYER_ROLE, n)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
            if isinstance(layer, LabelLayer):
                for value, style in sorted(layer.styles.items()):
                    child = QTreeWidgetItem(item, [f"{value}: {style.name}"])
                    child.setIcon(0, _swatch(style.color))
            else:
                self._marker_rows(item, layer)
            item.setExpanded(True)
        self.tree.blockSignals(False)
        self._sync_controls()

    def refresh_statuses(self) -> None:
        """Say each marker's review status again (the review changed), keeping the selection and
        the ticks: the list follows accept, reject, edit and undo as the flags do."""
        self.tree.blockSignals(True)
        try:
            for n in range(self.tree.topLevelItemCount()):
                item = self.tree.topLevelItem(n)
                layer = self._layer_of(item)
                if isinstance(layer, MarkerLayer):
                    self._marker_rows(item, layer)
        finally:
            self.tree.blockSignals(False)

    @staticmethod
    def _marker_rows(item: QTreeWidgetItem, layer: MarkerLayer) -> None:
        """One row per marker under `item`: its label, status in words and colour swatch."""
        ids = [item.child(c).data(0, MARKER_ROLE) for c in range(item.childCount())]
        if ids != [marker.id for marker in layer.markers]:  # markers came or went: rows anew
            item.takeChildren()
            for marker in layer.markers:
                QTreeWidgetItem(item).setData(0, MARKER_ROLE, marker.id)
        for c, marker in enumerate(layer.markers):
            child = item.child(c)
            child.setText(0, marker.caption)
            child.setIcon(0, _swatch(marker.color))

    def _layer_of(self, item: QTreeWidgetItem | None) -> LabelLayer | MarkerLayer | None:
        while item is not None and item.data(0, LAYER_ROLE) is None:
            item = item.parent()
        return None if item is None else self._layers[item.data(0, LAYER_ROLE)]

    def _item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        layer = self._layer_of(item)
        if layer is not None and item.data(0, LAYER_ROLE) is not None:
            layer.visible = item.checkState(0) == Qt.CheckState.Checked
            self.changed.emit()

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        marker_id = item.data(0, MARKER_ROLE)
        if marker_id is not None:
            self.go_to_marker.emit(marker_id)

    def _sync_controls(self) -> None:
        layer = self._layer_of(self.tree.currentItem())
        is_mask = isinstance(layer, LabelLayer)
        self.opacity.setEnabled(is_mask)
        self.style_box.setEnabled(is_mask)
        if is_mask:
            self.opacity.blockSignals(True)
            self.opacity.setValue(round(layer.opacity * 100))
            self.opacity.blockSignals(False)
            self.style_box.blockSignals(True)
            self.style_box.setCurrentText(layer.style.value)
            self.style_box.blockSignals(False)

    def _opacity_changed(self, value: int) -> None:
        layer = self._layer_of(self.tree.currentItem())
        if isinstance(layer, LabelLayer):
            layer.opacity = value / 100
            self.changed.emit()

    def _style_changed(self, text: str) -> None:
        layer = self._layer_of(self.tree.currentItem())
        if isinstance(layer, LabelLayer):
            layer.style = MaskStyle(text)
            self.changed.emit()
