"""One slice view: draws a PlaneView (radview.viewer.plane_view) with its overlays, crosshair,
measurements and corner text, and turns the mouse into the viewer's signals.

The view works in in-plane mm: its ViewBox data coordinates are mm along the screen's right and
down, so aspect ratio, zoom and ROI sizes are exact. The displayed arrays are numpy views of the
volume and of the label layers (transposed/flipped, never copied); one QTransform maps display
pixels to mm, shared by the image, the masks and the crosshair, so they align to the voxel.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QTransform

from radview.core.measurements import Measurement, MeasurementKind, measurement_values
from radview.core.overlays import LabelLayer, MarkerLayer, MaskStyle, outline
from radview.core.planes import Plane, PlaneLayout
from radview.core.volume import Volume
from radview.core.windowing import WindowLevel
from radview.gui.corner_text import CornerText
from radview.gui.crosshair_items import CrosshairGraphics
from radview.gui.marker_items import MarkerGraphics
from radview.gui.measure_items import MeasurementGraphics
from radview.gui.view_box import SliceViewBox
from radview.viewer.plane_view import PlaneView
from radview.viewer.tools import Tool

GREY_INVERTED = np.linspace(255, 0, 256).astype(np.uint8)


class SliceView(pg.GraphicsView):
    """Shows one plane of one volume. The parent area links views through the signals."""

    index_changed = Signal(int)
    window_changed = Signal(object)  # WindowLevel
    focus_requested = Signal(object)  # LPS mm point the user clicked
    cursor_text = Signal(str)
    measurement_added = Signal(object)  # Measurement
    measurement_changed = Signal(object, bool)  # Measurement, finished
    measurement_removed = Signal(int)
    measurement_selected = Signal(int)
    marker_clicked = Signal(str)
    activated = Signal()

    def __init__(self, plane: Plane = Plane.AXIAL, slab_mm: float = 0.0, parent=None) -> None:
        super().__init__(parent, background=(0, 0, 0))
        self.plane_view = PlaneView(plane, slab_mm)  # slab_mm > 0: a maximum intensity projection
        self.view_box = SliceViewBox()
        self.setCentralItem(self.view_box)
        self.window = WindowLevel(400, 40)
        self.inverted = False
        self.header_text = ""
        self.value_unit = ""
        self._label_layers: list[LabelLayer] = []
        self._mask_items: dict[int, pg.ImageItem] = {}
        self._marker_layers: list[MarkerLayer] = []
        self._measurements: list[Measurement] = []
        self._focus_lps: np.ndarray | None = None
        self._drawing: Measurement | None = None
        self._angle_first_arm: tuple[QPointF, QPointF] | None = None

        self.display_root = pg.ItemGroup()
        self.view_box.addItem(self.display_root)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setParentItem(self.display_root)
        self.crosshair = CrosshairGraphics(self.display_root)
        self.markers = MarkerGraphics(self.view_box, self.marker_clicked.emit)
        self.measure_graphics = MeasurementGraphics(
            self.view_box, self._measurement_moved, self.measurement_removed.emit, self._select_measurement
        )
        self.corner = CornerText(self)
        self.view_box.scrolled.connect(self.step)
        self.view_box.window_dragged.connect(self._drag_window)
        self.view_box.left_clicked.connect(self._clicked)
        self.view_box.left_dragged.connect(self._dragged)
        self.view_box.sigRangeChanged.connect(lambda *_: self._update_corner_text())
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.setToolTip("")

    # ----- the plane shown (radview.viewer.plane_view) ------------------------------------------
    @property
    def plane(self) -> Plane:
        return self.plane_view.plane

    @property
    def slab_mm(self) -> float:
        return self.plane_view.slab_mm

    @property
    def volume(self) -> Volume | None:
        return self.plane_view.volume

    @property
    def layout_(self) -> PlaneLayout | None:
        return self.plane_view.layout

    @property
    def index(self) -> int:
        return self.plane_view.index

    # ----- content -----------------------------------------------------------------------
    def set_volume(self, volume: Volume, header_text: str = "", index: int | None = None) -> None:
        """Show `volume` (it may still be filling), fitted, on slice `index` (default: the first
        axial slice, the middle of a reformat)."""
        self.plane_view.set_volume(volume)
        if index is not None:
            self.plane_view.index = self.plane_view.clipped(index)
        self.header_text = header_text
        self.value_unit = volume.value_unit
        self.inverted = False
        m = self.plane_view.to_mm
        self.display_root.setTransform(QTransform(m[0, 0], m[1, 0], m[0, 1], m[1, 1], 0.0, 0.0))
        self.crosshair.colour_for(self.plane_view)
        self.corner.set_letters(self.layout_.edge_labels() if volume.has_patient_geometry else {})
        self.refresh()
        self.fit()

    @property
    def slice_count(self) -> int:
        return self.plane_view.slice_count

    def set_index(self, index: int) -> None:
        """Go to slice `index` of this plane (clipped)."""
        if not self.layout_:
            return
        index = self.plane_view.clipped(index)
        if index != self.index:
            self.plane_view.index = index
            self.refresh()
            self.index_changed.emit(index)

    def step(self, slices: int) -> None:
        self.set_index(self.index + slices)

    def set_window(self, window: WindowLevel) -> None:
        self.window = window
        self._paint_image()
        self._update_corner_text()

    def set_inverted(self, inverted: bool) -> None:
        self.inverted = inverted
        self._paint_image()

    def set_tool(self, tool: Tool) -> None:
        self.view_box.tool = tool
        self._angle_first_arm = None

    def set_label_layers(self, layers: list[LabelLayer]) -> None:
        """Draw these mask layers (on this volume's grid) over the image."""
        for layer_id in list(self._mask_items):
            if all(layer.id != layer_id for layer in layers):
                self.view_box.scene().removeItem(self._mask_items.pop(layer_id))
        self._label_layers = list(layers)
        for z, layer in enumerate(self._label_layers):
            if layer.id not in self._mask_items:
                item = pg.ImageItem(axisOrder="row-major")
                item.setParentItem(self.display_root)
                self._mask_items[layer.id] = item
            self._mask_items[layer.id].setZValue(10 + z)
        self._paint_masks()

    def set_marker_layers(self, layers: list[MarkerLayer], selected_id: str | None = None) -> None:
        self._marker_layers = list(layers)
        self.markers.selected_id = selected_id
        self._paint_markers()

    def set_measurements(self, measurements: list[Measurement], selected_id: int | None = None) -> None:
        self._measurements = list(measurements)
        self.measure_graphics.selected_id = selected_id
        self._paint_measurements()

    def set_focus(self, point_lps_mm: np.ndarray | None, move_slice: bool = True) -> None:
        """Put the crosshair on a patient point; with move_slice, show the slice through it."""
        self._focus_lps = None if point_lps_mm is None else np.asarray(point_lps_mm, float)
        if move_slice and self._focus_lps is not None and self.volume is not None:
            self.set_index(self.plane_view.slice_through(self._focus_lps))
        self._paint_crosshair()

    def centre_on(self, point_lps_mm: np.ndarray) -> None:
        """Pan (keeping the zoom) so a patient point sits in the middle of the view."""
        self.show_region(point_lps_mm)

    def show_region(self, point_lps_mm: np.ndarray, size_mm: float = 0.0, min_px: float = 0.0) -> None:
        """Centre a patient point in the view; zoom in (never out) until something `size_mm`
        across there spans at least `min_px` screen pixels, so a finding is seen, not searched for."""
        if not self.layout_:
            return
        x, y, _ = self.plane_view.lps_to_view(point_lps_mm)
        rect, mm_per_px = self.view_box.viewRect(), self.view_box.viewPixelSize()[0]
        scale = size_mm / min_px / mm_per_px if 0 < size_mm < min_px * mm_per_px else 1.0
        width, height = rect.width() * scale, rect.height() * scale
        # the whole range at once (not a pan, then a zoom): the point is the centre of what is shown
        self.view_box.setRange(QRectF(x - width / 2, y - height / 2, width, height), padding=0)

    def refresh(self) -> None:
        """Repaint the current slice and everything on it (also as a progressive load fills)."""
        self._paint_image()
        self._paint_masks()
        self._paint_crosshair()
        self._paint_markers()
        self._paint_measurements()
        self._update_corner_text()

    def fit(self) -> None:
        """Fit the whole slice in the view."""
        if not self.layout_:
            return
        x_range, y_range = self.plane_view.fit_range_mm()
        self.view_box.setRange(xRange=x_range, yRange=y_range, padding=0.02)

    def zoom(self, factor: float) -> None:
        self.view_box.scaleBy(x=1.0 / factor, y=1.0 / factor)

    @property
    def zoom_factor(self) -> float:
        """Screen pixels per image pixel along the screen's x."""
        if not self.layout_:
            return 1.0
        mm_per_screen_px = self.view_box.viewPixelSize()[0]
        return self.plane_view.mm_per_image_pixel() / mm_per_screen_px if mm_per_screen_px > 0 else 1.0

    # ----- coordinates ---------------------------------------------------------------------
    def view_to_voxel(self, x_mm: float, y_mm: float, index: float | None = None) -> np.ndarray:
        """View mm (x, y) on this plane's slice -> fractional voxel (k, j, i)."""
        return self.plane_view.view_to_voxel(x_mm, y_mm, index)

    def view_to_lps(self, x_mm: float, y_mm: float) -> np.ndarray:
        return self.plane_view.view_to_lps(x_mm, y_mm)

    def display_image(self) -> np.ndarray:
        """The 2D array now shown (rows, cols): a view of the volume, or a slab MIP."""
        return self.plane_view.display_image()

    # ----- painting ----------------------------------------------------------------------
    def _paint_image(self) -> None:
        if not self.layout_:
            return
        image = self.display_image()
        if self.volume.is_rgb:
            self.image_item.setImage(image, autoLevels=False, levels=(0, 255))
            return
        inverted = self.inverted != self.volume.display_inverted
        # no lookup table for plain grey: pyqtgraph's levels alone give it, one pass cheaper
        self.image_item.setImage(
            image, autoLevels=False, levels=(self.window.low, self.window.high), lut=GREY_INVERTED if inverted else None
        )

    def _paint_masks(self) -> None:
        if not self.layout_:
            return
        for layer in self._label_layers:
            item = self._mask_items[layer.id]
            item.setVisible(layer.visible)
            if not layer.visible or layer.labels.shape != self.volume.shape:
                item.setVisible(False)
                continue
            labels = self.layout_.display_slice(layer.labels, self.index)
            # paint only the labelled box: blending a full transparent 512x512 image costs more
            # than the slice itself, and most slices of a finding mask are empty
            rows = np.flatnonzero(labels.any(axis=1))
            if rows.size == 0:
                item.setVisible(False)
                continue
            cols = np.flatnonzero(labels.any(axis=0))
            r0, r1, c0, c1 = max(rows[0] - 1, 0), rows[-1] + 2, max(cols[0] - 1, 0), cols[-1] + 2
            labels = labels[r0:r1, c0:c1]  # one pixel of margin so the outline sees the edge
            if layer.style is MaskStyle.OUTLINE:
                labels = outline(labels)
            item.setImage(labels, autoLevels=False, levels=(0, 255), lut=layer.lookup_table())
            item.setPos(float(c0), float(r0))

    def _paint_crosshair(self) -> None:
        self.crosshair.show(self.plane_view, self._focus_lps)

    def _paint_markers(self) -> None:
        if self.layout_:
            self.markers.show(self.plane_view.markers_shown(self._marker_layers))

    def _paint_measurements(self) -> None:
        if self.layout_:
            self.measure_graphics.show(self.plane_view.measurements_shown(self._measurements), self.value_unit)

    # ----- corner text -------------------------------------------------------------------
    def corner_texts(self) -> dict[str, str]:
        """The corner and edge texts now shown (tests read them)."""
        return self.corner.texts()

    def _update_corner_text(self) -> None:
        if not self.layout_:
            return
        v = self.volume
        compact = self.width() < 480  # narrow panes (1x3) keep only the essentials
        self.corner.set("tl", self.header_text.split("\n")[0] if compact else self.header_text)
        location = self.plane_view.location_mm()
        position = "" if location is None else f"\nLoc {location:.1f} mm"
        slab = f"  MIP {self.slab_mm:.0f} mm" if self.slab_mm > 0 else ""
        loading = f"  loading {v.slices_loaded}/{v.shape[0]}" if v.slices_loaded < v.shape[0] else ""
        series = "" if compact else f"{v.series_description}\nSe {v.series_number or '-'}  "
        self.corner.set("tr", f"{series}Im {self.index + 1}/{self.slice_count}{slab}{loading}{position}")
        self.corner.set("br", f"W {self.window.width:.0f}  L {self.window.level:.0f}\nZoom {self.zoom_factor:.2f}x")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        if hasattr(self, "corner"):  # pyqtgraph resizes during its own __init__
            self._update_corner_text()
            self.corner.place_all()

    # ----- mouse -------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.activated.emit()
        super().mousePressEvent(event)

    def _mouse_moved(self, scene_pos) -> None:
        if not self.layout_ or not self.view_box.sceneBoundingRect().contains(scene_pos):
            return
        p = self.view_box.mapSceneToView(scene_pos)
        text = self.plane_view.cursor_readout(p.x(), p.y(), self.value_unit)
        if text is None:
            self.corner.set("bl", "")
            return
        self.corner.set("bl", text)
        self.cursor_text.emit(text.replace("\n", "   "))

    def _drag_window(self, dx: float, dy: float) -> None:
        if self.volume is None or self.volume.is_rgb:
            return
        # sensitivity follows the width, so both a 80 HU brain window and a 2000 HU bone
        # window respond within one drag across the view
        scale = max(self.window.width, 10.0) / 250.0
        self.window = self.window.dragged(dx * scale, dy * scale)
        self._paint_image()
        self._update_corner_text()
        self.window_changed.emit(self.window)

    def _clicked(self, p: QPointF) -> None:
        self.activated.emit()
        if not self.layout_:
            return
        if self.view_box.tool is Tool.ANGLE and self._angle_first_arm is not None:
            end, vertex = self._angle_first_arm
            self._angle_first_arm = None
            self._finish_measurement(MeasurementKind.ANGLE, [end, vertex, p])
        elif self.view_box.tool is Tool.CROSSHAIR:
            self.focus_requested.emit(self.view_to_lps(p.x(), p.y()))

    def _dragged(self, phase: str, start: QPointF, current: QPointF) -> None:
        tool = self.view_box.tool
        if not self.layout_:
            return
        if tool is Tool.CROSSHAIR:
            self.focus_requested.emit(self.view_to_lps(current.x(), current.y()))
            return
        kinds = {Tool.DISTANCE: MeasurementKind.DISTANCE, Tool.ELLIPSE: MeasurementKind.ELLIPSE,
                 Tool.RECTANGLE: MeasurementKind.RECTANGLE, Tool.ANGLE: MeasurementKind.ANGLE}
        if tool not in kinds or phase != "finish":
            return
        if (current - start).manhattanLength() <= 0:
            return
        kind = kinds[tool]
        if kind is MeasurementKind.ANGLE:
            self._angle_first_arm = (start, current)  # the next click sets the second arm
            return
        if kind is MeasurementKind.DISTANCE:
            self._finish_measurement(kind, [start, current])
            return
        # ellipse / rectangle dragged corner to corner, axis-aligned on the screen
        cx, cy = (start.x() + current.x()) / 2, (start.y() + current.y()) / 2
        half_w, half_h = abs(current.x() - start.x()) / 2, abs(current.y() - start.y()) / 2
        self._finish_measurement(kind, [QPointF(cx, cy), QPointF(cx + half_w, cy), QPointF(cx, cy + half_h)])

    def add_measurement(self, kind: MeasurementKind, points_mm: list[QPointF]) -> Measurement:
        """Create a measurement from points in view mm on the current slice (the tools' path)."""
        return self._finish_measurement(kind, points_mm)

    def _finish_measurement(self, kind: MeasurementKind, points_mm: list[QPointF]) -> Measurement:
        points = np.array([[p.x(), p.y()] for p in points_mm])
        lps = np.array([self.view_to_lps(x, y) for x, y in points])
        m = Measurement(kind, self.volume.series_instance_uid, lps)
        m.values = self._values(kind, points, lps)
        self.measurement_added.emit(m)
        return m

    def _values(self, kind: MeasurementKind, points_mm: np.ndarray, lps: np.ndarray) -> dict[str, float]:
        return measurement_values(kind, lps, points_mm, self.display_image(), self.plane_view.to_mm)

    def _measurement_moved(self, mid: int, points_mm: np.ndarray, finished: bool) -> None:
        m = next((m for m in self._measurements if m.id == mid), None)
        if m is None:
            return
        m.points_lps_mm = np.array([self.view_to_lps(x, y) for x, y in points_mm])
        m.values = self._values(m.kind, points_mm, m.points_lps_mm)
        self.measure_graphics.set_text(mid, m.summary(self.value_unit))
        self.measurement_changed.emit(m, finished)

    def _select_measurement(self, mid: int) -> None:
        self.measure_graphics.selected_id = mid
        self.measurement_selected.emit(mid)
