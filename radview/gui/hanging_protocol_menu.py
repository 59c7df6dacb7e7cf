"""Showing a series as its hanging protocol says, and Window > Hanging Protocol.

Each series that opens is sorted into a kind (chest CT, brain MR, chest radiograph, other;
radview.core.hanging_protocols) and laid out by the reader's protocol for that kind: the planes of
the panes, the layout, the window and the slice each pane starts on, every view fitted. "Save
Current Layout as the Protocol for <kind>" keeps what the reader arranged for the next series of
that kind; "Reset to Default" puts the shipped protocol back and applies it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtGui import QAction

from radview.core.hanging_protocols import (
    DEFAULT_PROTOCOLS,
    DEFAULT_WINDOW,
    KIND_NAMES,
    PANE_PLANES,
    WINDOWS,
    HangingProtocol,
    protocol_kind,
)
from radview.core.settings import Settings
from radview.core.volume import Volume
from radview.gui.view_commands import ViewCommands
from radview.gui.viewer_area import ViewerArea
from radview.viewer.model import LAYOUT_PANES

_PLANE_NAMES = {spec: name for name, spec in PANE_PLANES.items()}


def kind_title(kind: str) -> str:
    """"chest-ct" -> "Chest CT" (a menu's words; str.title would say "Ct")."""
    name = KIND_NAMES[kind]
    return name[0].upper() + name[1:]


class HangingProtocols:
    """Shows every new series as its protocol says; handlers of Window > Hanging Protocol."""

    def __init__(self, area: ViewerArea, view_commands: ViewCommands, settings: Settings,
                 actions: Callable[[], dict[str, QAction]], persist: Callable[[], None],
                 show_status: Callable[[str, int], None]) -> None:
        self._area, self._commands, self._settings = area, view_commands, settings
        self._actions, self._persist, self._status = actions, persist, show_status
        self.kind: str | None = None  # the kind of the series on screen

    def show(self, volume: Volume, header_text: str) -> None:
        """Show a new series laid out as the protocol for its kind says."""
        self.kind = protocol_kind(volume)
        self._apply(self._settings.hanging_protocol(self.kind), volume, header_text)
        actions = self._actions()
        title = kind_title(self.kind)
        actions["save_hanging_protocol"].setText(f"Save Current Layout as the Protocol for {title}")
        actions["reset_hanging_protocol"].setText(f"Reset the {title} Protocol to Default")

    def _apply(self, protocol: HangingProtocol, volume: Volume, header_text: str) -> None:
        self._commands.layout(protocol.layout)  # checks the layout's menu item too
        self._area.show_volume(volume, header_text, protocol)

    def current(self) -> HangingProtocol:
        """The protocol the views now show: their layout, planes and (CT preset) window; the start
        rule is the kind's own (a slice of one study is no rule for the next)."""
        assert self.kind is not None
        area = self._area
        window = area.window.name if area.window.name in WINDOWS and area.volume.modality == "CT" else DEFAULT_WINDOW
        planes = [_PLANE_NAMES[spec] for spec in area.pane_planes()]
        if area.layout_name == "1x1":  # 1x1 shows the active pane; a protocol's 1x1 shows its first
            planes.insert(0, planes.pop(area.model.active))
        return replace(self._settings.hanging_protocol(self.kind), layout=area.layout_name, planes=tuple(planes),
                       window=window)

    # ----- handlers (radview.gui.actions: action_<name>) --------------------------------------------
    def action_save_hanging_protocol(self) -> None:
        if self.kind is None or self._area.volume is None:
            self._status("Open a series first: the protocol is saved for its kind", 5000)
            return
        protocol = self.current()
        self._settings.hanging_protocols[self.kind] = protocol.to_dict()
        self._persist()
        window = "its own window" if protocol.window == DEFAULT_WINDOW else f"the {protocol.window.lower()} window"
        shown = ", ".join(protocol.planes[:LAYOUT_PANES[protocol.layout]])
        self._status(f"Every {KIND_NAMES[self.kind]} now opens in {protocol.layout} ({shown}) in {window}", 8000)

    def action_reset_hanging_protocol(self) -> None:
        if self.kind is None or self._area.volume is None:
            self._status("Open a series first: the protocol of its kind is reset", 5000)
            return
        self._settings.hanging_protocols[self.kind] = DEFAULT_PROTOCOLS[self.kind].to_dict()
        self._persist()
        self._apply(DEFAULT_PROTOCOLS[self.kind], self._area.volume, self._area.header_text)
        self._status(f"The {KIND_NAMES[self.kind]} protocol is the default again", 5000)
