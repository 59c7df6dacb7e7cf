"""The viewer's state, without Qt: the series shown, the layout and the active view, the window,
the tool, the crosshair point, and per series the overlay layers and measurements, with events
(psygnal) the widgets listen to, as napari keeps its viewer model apart from its Qt views.

Layers and measurements are kept per SeriesInstanceUID, so they come back when the series is shown
again. Nothing here draws; radview.gui.viewer_area draws this model.
"""

from __future__ import annotations

import numpy as np
from psygnal import Signal

from radview.core.measurements import Measurement
from radview.core.overlays import LabelLayer, MarkerLayer
from radview.core.volume import Volume
from radview.core.windowing import WindowLevel
from radview.viewer.tools import Tool

LAYOUT_PANES = {"1x1": 1, "1x3": 3, "2x2": 4}
Layer = LabelLayer | MarkerLayer


class ViewerModel:
    """What the views show; every change goes through a method that emits its event."""

    volume_changed = Signal(object)  # Volume
    layout_changed = Signal(str)
    active_changed = Signal(int)  # index of the active view among the panes
    window_changed = Signal(object)  # WindowLevel
    tool_changed = Signal(object)  # Tool
    focus_changed = Signal(object)  # LPS mm point, or None
    layers_changed = Signal()
    measurements_changed = Signal()
    selection_changed = Signal()  # the selected measurement or marker

    def __init__(self) -> None:
        self.volume: Volume | None = None
        self.layout_name = "1x3"
        self.active = 0
        self.window = WindowLevel(400, 40)
        self.tool = Tool.CROSSHAIR
        self.focus_lps_mm: np.ndarray | None = None
        self.label_layers: dict[str, list[LabelLayer]] = {}
        self.marker_layers: dict[str, list[MarkerLayer]] = {}
        self.measurements: dict[str, list[Measurement]] = {}
        self.selected_measurement: int | None = None
        self.selected_marker: str | None = None

    @property
    def series_uid(self) -> str:
        return self.volume.series_instance_uid if self.volume else ""

    # ----- the series, layout, window, tool, crosshair ------------------------------------------
    def show_volume(self, volume: Volume, window: WindowLevel | None = None) -> None:
        """A new series: its default window (or `window`, a hanging protocol's preset), no crosshair
        or selected measurement yet."""
        self.volume = volume
        self.window = window or WindowLevel(volume.window_width or 400, volume.window_center or 40, "Default")
        self.focus_lps_mm = None
        self.selected_measurement = None
        self.volume_changed.emit(volume)

    def set_layout(self, name: str) -> None:
        if name not in LAYOUT_PANES:
            raise ValueError(f"unknown layout {name!r}")
        self.layout_name = name
        self.layout_changed.emit(name)

    def set_active(self, index: int) -> None:
        self.active = index
        self.active_changed.emit(index)

    def set_window(self, window: WindowLevel) -> None:
        self.window = window
        self.window_changed.emit(window)

    def set_tool(self, tool: Tool) -> None:
        self.tool = tool
        self.tool_changed.emit(tool)

    def set_focus(self, point_lps_mm: np.ndarray | None) -> None:
        self.focus_lps_mm = None if point_lps_mm is None else np.asarray(point_lps_mm, float)
        self.focus_changed.emit(self.focus_lps_mm)

    # ----- overlay layers ---------------------------------------------------------------------------
    def add_layer(self, layer: Layer) -> None:
        store = self.marker_layers if isinstance(layer, MarkerLayer) else self.label_layers
        store.setdefault(layer.series_instance_uid, []).append(layer)
        self.layers_changed.emit()

    def remove_layers(self, layers: list[Layer]) -> None:
        """Take these layers off (an earlier run of a model that was run again)."""
        gone = {id(layer) for layer in layers}
        for store in (self.label_layers, self.marker_layers):
            for uid, kept in store.items():
                store[uid] = [layer for layer in kept if id(layer) not in gone]
        self.layers_changed.emit()

    def layers(self) -> list[Layer]:
        """The layers of the shown series, masks first."""
        return [*self.label_layers.get(self.series_uid, []), *self.marker_layers.get(self.series_uid, [])]

    def find_marker(self, marker_id: str):
        """The shown series' marker with this id (radview.core.overlays.Marker); KeyError if none."""
        for layer in self.marker_layers.get(self.series_uid, []):
            for marker in layer.markers:
                if marker.id == marker_id:
                    return marker
        raise KeyError(marker_id)

    def select_marker(self, marker_id: str | None) -> None:
        self.selected_marker = marker_id
        self.selection_changed.emit()

    # ----- measurements ------------------------------------------------------------------------------
    def series_measurements(self) -> list[Measurement]:
        return self.measurements.get(self.series_uid, [])

    def add_measurement(self, measurement: Measurement) -> None:
        self.measurements.setdefault(measurement.series_instance_uid, []).append(measurement)
        self.selected_measurement = measurement.id
        self.measurements_changed.emit()

    def remove_measurement(self, measurement_id: int) -> None:
        self.measurements[self.series_uid] = [m for m in self.series_measurements() if m.id != measurement_id]
        if self.selected_measurement == measurement_id:
            self.selected_measurement = None
        self.measurements_changed.emit()

    def select_measurement(self, measurement_id: int | None) -> None:
        self.selected_measurement = measurement_id
        self.selection_changed.emit()
