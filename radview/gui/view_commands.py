"""The View, Navigate, Window and Tools menus' handlers (names from radview.gui.actions.ACTIONS):
layouts, zoom, grey scale, cine, slices, window presets and the mouse tools, on the viewer area."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction

from radview.core.windowing import CT_PRESETS, WindowLevel
from radview.gui.viewer_area import ViewerArea
from radview.viewer.tools import Tool


class ViewCommands:
    """`action_<name>` per viewer command; `preset(n)`, `layout(name)` and `tool(tool)` for the
    groups of commands that differ only by their argument."""

    def __init__(self, area: ViewerArea, actions: Callable[[], dict[str, QAction]],
                 show_status: Callable[[str, int], None]) -> None:
        self._area, self._actions, self._status = area, actions, show_status

    def layout(self, name: str) -> None:
        self._area.set_layout(name)
        self._actions()[f"layout_{name}"].setChecked(True)

    def tool(self, tool: Tool) -> None:
        self._area.set_tool(tool)
        self._actions()[f"tool_{tool.value}"].setChecked(True)

    def preset(self, n: int) -> None:
        volume = self._area.volume
        if volume is None:
            return
        if volume.modality != "CT":
            self._status("Presets are in HU and apply to CT; use right-drag or 0 (default)", 5000)
            return
        self._area.apply_window(CT_PRESETS[n])

    def action_window_default(self) -> None:
        volume = self._area.volume
        if volume is not None:
            self._area.apply_window(WindowLevel(volume.window_width, volume.window_center, "Default"))

    def action_fit(self) -> None:
        self._area.fit_all()

    def action_zoom_in(self) -> None:
        self._area.active_view.zoom(1.25)

    def action_zoom_out(self) -> None:
        self._area.active_view.zoom(0.8)

    def action_invert(self) -> None:
        self._area.toggle_invert()

    def action_cine(self) -> None:
        self._area.toggle_cine()
        self._actions()["cine"].setChecked(self._area.cine_running)

    def action_next_slice(self) -> None:
        self._area.step(1)

    def action_previous_slice(self) -> None:
        self._area.step(-1)

    def action_page_down(self) -> None:
        self._area.step(10)

    def action_page_up(self) -> None:
        self._area.step(-10)

    def action_first_slice(self) -> None:
        self._area.go_to_end(last=False)

    def action_last_slice(self) -> None:
        self._area.go_to_end(last=True)

    def action_next_view(self) -> None:
        views, active = self._area.views, self._area.active_view
        if active in views:
            self._area.set_active(views[(views.index(active) + 1) % len(views)])

    def action_delete_measurement(self) -> None:
        if not self._area.delete_selected_measurement():
            self._status("Click a measurement first to select it", 3000)
