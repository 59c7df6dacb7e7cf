"""The views of the open series: layouts, linked crosshair, shared window, cine, overlays.

The state (the series, layout, window, tool, crosshair, layers and measurements per series) is the
Qt-free ViewerModel (radview.viewer.model); this area draws it in up to four panes and turns what
the reader does in one view into model changes the others follow.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from radview.core.hanging_protocols import PANE_PLANES, STANDARD_PLANES, HangingProtocol
from radview.core.measurements import Measurement
from radview.core.overlays import LabelLayer, MarkerLayer
from radview.core.planes import Plane
from radview.core.volume import Volume
from radview.core.windowing import WindowLevel
from radview.gui.slice_view import SliceView
from radview.gui.view_pane import ViewPane
from radview.viewer.model import LAYOUT_PANES, ViewerModel
from radview.viewer.tools import Tool

CINE_FPS = 15
MIN_FINDING_PX = 60  # "go to" shows a finding at least this many screen pixels across
FINDING_ZOOM_MARGIN = 1.1  # and zooms a little past it, so rounding never leaves it under


def pane_title(plane: Plane, slab_mm: float) -> str:
    """What a pane's title bar calls its plane: "Axial", "Axial MIP 10 mm"."""
    name = plane.value.capitalize()
    return f"{name} MIP {slab_mm:.0f} mm" if slab_mm > 0 else name


class ViewerArea(QWidget):
    """Up to four panes on one volume."""

    window_changed = Signal(object)  # WindowLevel
    cursor_text = Signal(str)
    layers_changed = Signal()
    measurements_changed = Signal()
    marker_clicked = Signal(str)
    active_view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ViewerModel()
        self.header_text = ""  # the patient and study lines of the corner text
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        specs = [PANE_PLANES[name] for name in STANDARD_PLANES]
        # parented at once: a pane shown before the grid holds it would flash up as a window of
        # its own and take the keyboard from the main window
        self.panes = [ViewPane(SliceView(plane, slab), pane_title(plane, slab), self) for plane, slab in specs]
        for pane in self.panes:
            self._connect(pane.view)
        self._cine = QTimer(self)
        self._cine.setInterval(1000 // CINE_FPS)
        self._cine.timeout.connect(self._cine_step)
        self._window_source: SliceView | None = None  # the view a window drag came from: it has it
        model = self.model
        model.layers_changed.connect(self._layers_changed)
        model.measurements_changed.connect(self._measurements_changed)
        model.selection_changed.connect(self._push_overlays)
        model.window_changed.connect(self._window_changed)
        model.tool_changed.connect(lambda tool: [pane.view.set_tool(tool) for pane in self.panes])
        model.layout_changed.connect(lambda _name: self._arrange())
        self._arrange()

    # ----- the model's state, as the window and the tests read it ------------------------------
    volume = property(lambda self: self.model.volume)
    layout_name = property(lambda self: self.model.layout_name)
    window = property(lambda self: self.model.window)
    tool = property(lambda self: self.model.tool)
    focus_lps_mm = property(lambda self: self.model.focus_lps_mm)
    measurements = property(lambda self: self.model.measurements)
    label_layers = property(lambda self: self.model.label_layers)
    marker_layers = property(lambda self: self.model.marker_layers)
    selected_marker = property(lambda self: self.model.selected_marker)
    selected_measurement = property(lambda self: self.model.selected_measurement)
    series_uid = property(lambda self: self.model.series_uid)

    @property
    def active_view(self) -> SliceView:
        return self.panes[self.model.active].view

    @property
    def views(self) -> list[SliceView]:
        """The views the current layout shows."""
        return [p.view for p in self._visible_panes()]

    # ----- series ------------------------------------------------------------------------
    def show_volume(self, volume: Volume, header_text: str, protocol: HangingProtocol | None = None) -> None:
        """Show a (possibly still loading) volume in every pane, fitted; hung as `protocol` says
        (the planes of the panes, the window, the slice each starts on) when one is given. The
        caller sets the protocol's layout first. Each view paints once: the series opens at once."""
        self.stop_cine()
        self.model.show_volume(volume, protocol.window_for(volume) if protocol else None)
        if protocol is not None:
            self._set_planes(protocol.pane_planes(volume))
            self.model.set_active(0)  # 1x1 shows the first pane's plane
        self.header_text = header_text
        for pane in self.panes:
            view = pane.view
            view.window = self.window
            view.set_volume(volume, header_text, protocol.start_index(volume, view.plane) if protocol else None)
            pane.sync_range()
        self._arrange()
        self._push_overlays()
        self.set_active(self.panes[0].view)
        self.window_changed.emit(self.window)

    def volume_grew(self) -> None:
        """The loading volume has more slices: repaint what shows them. A slab MIP waits for the
        whole series: recomputing it at every step of the load would stall the window."""
        for view in self.views:
            if view.slab_mm <= 0:
                view.refresh()

    def volume_complete(self) -> None:
        """Loading finished: the window may be final now (percentiles of the whole series)."""
        if self.volume and self.window.name == "Default":
            self.apply_window(WindowLevel(self.volume.window_width, self.volume.window_center, "Default"))
        for view in self.views:
            view.refresh()

    # ----- layout ------------------------------------------------------------------------
    def set_layout(self, name: str) -> None:
        self.model.set_layout(name)

    def _set_planes(self, planes: list[tuple[Plane, float]]) -> None:
        """Put these (plane, slab mm) in the panes, in pane order; show_volume draws them."""
        for pane, (plane, slab_mm) in zip(self.panes, planes, strict=False):
            pane.view.plane_view.plane, pane.view.plane_view.slab_mm = plane, slab_mm
            pane.title.setText(pane_title(plane, slab_mm))

    def pane_planes(self) -> list[tuple[Plane, float]]:
        """(plane, slab mm) of each pane, in pane order."""
        return [(pane.view.plane, pane.view.slab_mm) for pane in self.panes]

    def _visible_panes(self) -> list[ViewPane]:
        if self.volume is not None and (self.volume.is_2d or not self.volume.has_patient_geometry):
            return [self.panes[0]]
        count = LAYOUT_PANES[self.layout_name]
        if count == 1:
            active = next((p for p in self.panes if p.view is self.active_view), self.panes[0])
            return [active]
        return self.panes[:count]

    def _arrange(self) -> None:
        visible = self._visible_panes()
        # a hidden pane is not repainted while a series loads: one coming into view catches up
        appearing = [pane for pane in visible if not pane.isVisibleTo(self)]
        for pane in self.panes:
            self._grid.removeWidget(pane)
            pane.setVisible(pane in visible)
        columns = 2 if len(visible) == 4 else len(visible)
        for n, pane in enumerate(visible):
            self._grid.addWidget(pane, n // columns, n % columns)
        for pane in appearing:
            pane.view.refresh()
        for view in self.views:
            view.fit()

    def set_active(self, view: SliceView) -> None:
        self.model.set_active(next(n for n, pane in enumerate(self.panes) if pane.view is view))
        for pane in self.panes:
            pane.set_active(pane.view is view)
        self.active_view_changed.emit()

    # ----- window, tools, navigation -----------------------------------------------------
    def apply_window(self, window: WindowLevel) -> None:
        """The same window on every view of the series."""
        self.model.set_window(window)

    def _window_changed(self, window: WindowLevel) -> None:
        for pane in self.panes:
            if pane.view is not self._window_source:
                pane.view.set_window(window)
        self.window_changed.emit(window)

    def toggle_invert(self) -> None:
        for pane in self.panes:
            pane.view.set_inverted(not pane.view.inverted)

    def set_tool(self, tool: Tool) -> None:
        self.model.set_tool(tool)

    def fit_all(self) -> None:
        for view in self.views:
            view.fit()

    def step(self, slices: int) -> None:
        self.active_view.step(slices)

    def go_to_end(self, last: bool) -> None:
        view = self.active_view
        view.set_index(view.slice_count - 1 if last else 0)

    def set_focus(self, point_lps_mm: np.ndarray, move_slices: bool = True, source: SliceView | None = None) -> None:
        """Put the crosshair on a patient point in every view; other views go to its slices."""
        self.model.set_focus(point_lps_mm)
        for pane in self.panes:
            pane.view.set_focus(self.focus_lps_mm, move_slice=move_slices and pane.view is not source)

    def go_to(self, point_lps_mm: np.ndarray, size_mm: float = 0.0) -> None:
        """Centre every view on a patient point (a finding), on the slices through it; a finding
        `size_mm` across is zoomed to at least MIN_FINDING_PX on screen."""
        self.set_focus(point_lps_mm)
        for view in self.views:
            view.show_region(point_lps_mm, size_mm, MIN_FINDING_PX * FINDING_ZOOM_MARGIN)

    # ----- cine ----------------------------------------------------------------------------
    def toggle_cine(self) -> None:
        if self._cine.isActive():
            self.stop_cine()
        elif self.volume is not None and self.active_view.slice_count > 1:
            self._cine.start()

    def stop_cine(self) -> None:
        self._cine.stop()

    @property
    def cine_running(self) -> bool:
        return self._cine.isActive()

    def _cine_step(self) -> None:
        view = self.active_view
        view.set_index((view.index + 1) % view.slice_count)  # loops, like a cine on a workstation

    # ----- overlays and measurements -------------------------------------------------------
    def add_label_layer(self, layer: LabelLayer) -> None:
        self.model.add_layer(layer)

    def add_marker_layer(self, layer: MarkerLayer) -> None:
        self.model.add_layer(layer)

    def remove_layers(self, layers: list[LabelLayer | MarkerLayer]) -> None:
        """Take these layers off (an earlier run of a model that was run again)."""
        self.model.remove_layers(layers)

    def layers(self) -> list[LabelLayer | MarkerLayer]:
        """The layers of the shown series, masks first."""
        return self.model.layers()

    def _layers_changed(self) -> None:
        self._push_overlays()
        self.layers_changed.emit()

    def overlays_changed(self) -> None:
        """A layer's visibility, opacity, style or markers changed: repaint."""
        self._push_overlays()

    def select_marker(self, marker_id: str | None) -> None:
        self.model.select_marker(marker_id)

    def go_to_marker(self, marker_id: str) -> None:
        """Select a marker of the shown series and centre the views on it; KeyError if none."""
        marker = self.model.find_marker(marker_id)
        self.select_marker(marker_id)
        self.go_to(marker.centre_lps_mm, marker.size_mm)

    def series_measurements(self) -> list[Measurement]:
        return self.model.series_measurements()

    def select_measurement(self, measurement_id: int | None) -> None:
        self.model.select_measurement(measurement_id)

    def delete_selected_measurement(self) -> bool:
        if self.selected_measurement is None:
            return False
        self._remove_measurement(self.selected_measurement)
        return True

    def _push_overlays(self) -> None:
        uid = self.series_uid
        for pane in self.panes:
            pane.view.set_label_layers(self.label_layers.get(uid, []))
            pane.view.set_marker_layers(self.marker_layers.get(uid, []), self.selected_marker)
            pane.view.set_measurements(self.measurements.get(uid, []), self.selected_measurement)

    def _push_measurements(self, except_view: SliceView | None = None) -> None:
        for pane in self.panes:
            if pane.view is not except_view:
                pane.view.set_measurements(self.series_measurements(), self.selected_measurement)

    def _add_measurement(self, m: Measurement) -> None:
        self.model.add_measurement(m)

    def _remove_measurement(self, mid: int) -> None:
        self.model.remove_measurement(mid)

    def _measurements_changed(self) -> None:
        self._push_measurements()
        self.measurements_changed.emit()

    def _measurement_changed(self, view: SliceView, finished: bool) -> None:
        if finished:
            self._push_measurements(except_view=view)
            self.measurements_changed.emit()

    def _select_measurement(self, mid: int) -> None:
        self.model.select_measurement(mid)

    # ----- wiring ----------------------------------------------------------------------------
    def _connect(self, view: SliceView) -> None:
        view.activated.connect(lambda: self.set_active(view))
        view.window_changed.connect(lambda w: self._window_dragged(view, w))
        view.focus_requested.connect(lambda p: self.set_focus(p, source=view))
        view.cursor_text.connect(self.cursor_text.emit)
        view.measurement_added.connect(self._add_measurement)
        view.measurement_changed.connect(lambda m, finished: self._measurement_changed(view, finished))
        view.measurement_removed.connect(self._remove_measurement)
        view.measurement_selected.connect(self._select_measurement)
        view.marker_clicked.connect(self._marker_clicked)
        view.index_changed.connect(lambda _: self._slice_moved(view))

    def _window_dragged(self, source: SliceView, window: WindowLevel) -> None:
        self._window_source = source  # it painted the new window already
        try:
            self.model.set_window(window)
        finally:
            self._window_source = None

    def _marker_clicked(self, marker_id: str) -> None:
        self.select_marker(marker_id)
        self.marker_clicked.emit(marker_id)

    def _slice_moved(self, view: SliceView) -> None:
        """Scrolling one view moves the crosshair point along its normal; the others redraw lines."""
        if self.focus_lps_mm is None or self.volume is None or view.layout_ is None:
            return
        voxel = self.volume.patient_mm_to_voxel(self.focus_lps_mm)
        voxel[view.layout_.fixed_axis] = view.index
        self.model.set_focus(self.volume.voxel_to_patient_mm(voxel))
        for pane in self.panes:
            pane.view.set_focus(self.focus_lps_mm, move_slice=False)
