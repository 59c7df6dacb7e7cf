"""Every command of the window, its menu, shortcut and tooltip, in one table.

The menus, the shortcuts and Help > Keyboard shortcuts are all built from ACTIONS, so a command
cannot lack a shortcut or a tooltip without a test noticing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QWidget

from radview.core.windowing import CT_PRESETS


@dataclass(frozen=True)
class ActionSpec:
    name: str  # also the window's handler: `action_<name>`
    menu: str
    text: str
    shortcuts: tuple[str, ...]
    tip: str
    checkable: bool = False
    group: str = ""  # actions of one group exclude each other (tools, layouts)
    submenu: str = ""  # a submenu of `menu` holds it (Window > Hanging Protocol)
    short: str = ""  # the text on a button (the review dock's), where the menu's is too long

    @property
    def viewer_only(self) -> bool:
        """Keys of the viewer menus act only while the views have focus, so the arrow keys
        still move through the study browser when it has focus."""
        return self.menu in ("&Navigate", "&Window", "&Tools") or self.name in VIEWER_VIEW_ACTIONS


VIEWER_VIEW_ACTIONS = {"fit", "zoom_in", "zoom_out", "invert", "cine"}
_PRESET_KEYS = ("1", "2", "3", "4", "5")

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("open_folder", "&File", "Open &Folder...", ("Ctrl+O",), "Scan a folder (or DICOMDIR) and open its first series"),
    ActionSpec("open_files", "&File", "Open F&iles...", ("Ctrl+Shift+O",), "Open one or more DICOM files"),
    ActionSpec("pacs", "&File", "&PACS: Find and Retrieve...", ("Ctrl+Shift+F",), "Query a PACS, retrieve a study into the cache and open it"),
    ActionSpec("export_dicom", "&File", "&Export DICOM Results...", ("Ctrl+Shift+E",), "Write SEG, SR, the report as encapsulated PDF and key images of this study"),
    ActionSpec("send_results", "&File", "&Send Results to PACS...", ("Ctrl+Shift+U",), "Export the DICOM results and store them on a PACS"),
    ActionSpec("import_results", "&File", "&Import SEG or SR...", ("Ctrl+Shift+I",), "Show a DICOM SEG or a measurement SR (another system's too) on this series"),
    ActionSpec("anonymize", "&File", "&De-identify a Folder...", ("Ctrl+Shift+A",), "Copy a DICOM folder without patient identity (PS3.15 Annex E)"),
    ActionSpec("quit", "&File", "&Quit", ("Ctrl+Q",), "Close RadView (layout and recent folders are kept)"),
    ActionSpec("layout_1x1", "&View", "Layout 1x1", ("Ctrl+1",), "One view: the active plane", True, "layout"),
    ActionSpec("layout_1x3", "&View", "Layout 1x3", ("Ctrl+2",), "Axial, coronal and sagittal side by side", True, "layout"),
    ActionSpec("layout_2x2", "&View", "Layout 2x2", ("Ctrl+3",), "Axial, coronal, sagittal and a 10 mm axial MIP", True, "layout"),
    ActionSpec("fit", "&View", "&Fit to Window", ("F",), "Fit the whole image in every view"),
    ActionSpec("toggle_docks", "&View", "Hide/Show &Panels", ("F9",), "Hide the panels around the views for the most image, or show them again"),
    ActionSpec("reading_mode", "&View", "&Reading Mode", ("F11",), "Full screen with only the views and the findings; F11 again leaves it", True),
    ActionSpec("zoom_in", "&View", "Zoom &In", ("+", "="), "Zoom in the active view (also Ctrl+wheel)"),
    ActionSpec("zoom_out", "&View", "Zoom &Out", ("-",), "Zoom out the active view (also Ctrl+wheel)"),
    ActionSpec("invert", "&View", "&Invert Grey Scale", ("I",), "Show black as white and white as black"),
    ActionSpec("cine", "&View", "&Cine Play/Stop", ("Space",), "Play the active view's slices as a loop", True),
    ActionSpec("next_slice", "&Navigate", "Next Slice", ("Down", "Right"), "One slice forward (also the wheel)"),
    ActionSpec("previous_slice", "&Navigate", "Previous Slice", ("Up", "Left"), "One slice back (also the wheel)"),
    ActionSpec("page_down", "&Navigate", "10 Slices Forward", ("PgDown",), "Ten slices forward"),
    ActionSpec("page_up", "&Navigate", "10 Slices Back", ("PgUp",), "Ten slices back"),
    ActionSpec("first_slice", "&Navigate", "First Slice", ("Home",), "Go to the first slice"),
    ActionSpec("last_slice", "&Navigate", "Last Slice", ("End",), "Go to the last slice"),
    ActionSpec("next_view", "&Navigate", "Next View", ("V",), "Make the next view active"),
    *(
        ActionSpec(f"preset_{n}", "&Window", f"{p.name} W {p.width:.0f} L {p.level:.0f}", (key,),
                   f"CT {p.name.lower()} window: width {p.width:.0f} HU, level {p.level:.0f} HU")
        for n, (key, p) in enumerate(zip(_PRESET_KEYS, CT_PRESETS, strict=True))
    ),
    ActionSpec("window_default", "&Window", "DICOM Default Window", ("0",), "The window stored in the images (or an automatic one)"),
    ActionSpec("save_hanging_protocol", "&Window", "Save Current Layout as the Protocol for This Kind of Series", ("Ctrl+Shift+H",),
               "Open every series of this kind (chest CT, brain MR, chest radiograph, other) in this layout, planes and window",
               submenu="Hanging &Protocol"),
    ActionSpec("reset_hanging_protocol", "&Window", "Reset to Default", ("Ctrl+Alt+H",),
               "Put back the default protocol for this kind of series and apply it", submenu="Hanging &Protocol"),
    ActionSpec("tool_crosshair", "&Tools", "&Crosshair", ("C", "Esc"), "Left click sets the linked crosshair", True, "tool"),
    ActionSpec("tool_pan", "&Tools", "&Pan", ("P",), "Left drag pans (middle drag always pans)", True, "tool"),
    ActionSpec("tool_zoom", "&Tools", "&Zoom", ("Z",), "Left drag up/down zooms", True, "tool"),
    ActionSpec("tool_distance", "&Tools", "&Distance (mm)", ("D",), "Left drag measures a distance in mm", True, "tool"),
    ActionSpec("tool_angle", "&Tools", "An&gle", ("G",), "Drag the first arm, click the end of the second", True, "tool"),
    ActionSpec("tool_ellipse", "&Tools", "&Ellipse ROI", ("O",), "Left drag draws an ellipse: mean, SD, min, max, area", True, "tool"),
    ActionSpec("tool_rectangle", "&Tools", "&Rectangle ROI", ("B",), "Left drag draws a rectangle: mean, SD, min, max, area", True, "tool"),
    ActionSpec("delete_measurement", "&Tools", "Delete Measurement", ("Del", "Backspace"), "Delete the selected measurement"),
    ActionSpec("run_models", "&AI", "&Run AI on This Series", ("Ctrl+R",), "Run the models that apply to the shown series (results are suggestions to verify)"),
    ActionSpec("run_model_by_hand", "&AI", "Run a &Model by Hand...", ("Ctrl+Shift+R",), "Every model, whether it was made for the shown series and why not; run one after a warning"),
    ActionSpec("monitoring", "&AI", "AI Mo&nitoring...", ("Ctrl+Alt+M",), "How readers accept, edit or reject each model version's findings, and their agreement (from the audit logs)"),
    ActionSpec("previous_finding", "&Review", "&Previous Finding", ("Shift+N", "["), "Go to the finding above in the list, centred and zoomed in every view", short="◀ Prev"),
    ActionSpec("next_finding", "&Review", "&Next Finding", ("N", "]"), "Go to the finding below in the list, centred and zoomed in every view", short="Next ▶"),
    ActionSpec("accept_finding", "&Review", "&Accept Finding", ("A",), "Accept the selected finding into the report", short="Accept"),
    ActionSpec("reject_finding", "&Review", "&Reject Finding", ("R",), "Reject the selected finding (kept in the audit log, not in the report)", short="Reject"),
    ActionSpec("edit_finding", "&Review", "&Edit Finding...", ("E",), "Change type, size, location or add a note; the AI's original is kept", short="Edit…"),
    ActionSpec("add_finding", "&Review", "Add &Manual Finding...", ("M",), "A finding of your own: from the selected measurement, else at the crosshair", short="Add…"),
    ActionSpec("undo_review", "&Review", "&Undo", ("Ctrl+Z",), "Undo the last review action", short="Undo"),
    ActionSpec("redo_review", "&Review", "Re&do", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo the review action just undone", short="Redo"),
    ActionSpec("sign_report", "&Review", "&Sign Report...", ("Ctrl+Shift+S",), "Sign the report with your name and the time; it is locked afterwards"),
    ActionSpec("amend_report", "&Review", "A&mend Signed Report", ("Ctrl+Shift+M",), "Start a new version of the signed report"),
    ActionSpec("export_pdf", "&Review", "Export Report &PDF...", ("Ctrl+P",), "Write the report with key images as PDF"),
    ActionSpec("shortcuts", "&Help", "&Keyboard Shortcuts", ("F1",), "List every command and its keys"),
    ActionSpec("about", "&Help", "&About RadView", ("Ctrl+F1",), "Version, folders and the log file"),
)


def build_actions(
    window: QMainWindow, viewer: QWidget, handler: Callable[[str], Callable[[], None]]
) -> dict[str, QAction]:
    """Create the menus and QActions of `window`; handler(name) gives the slot of an action.

    Viewer actions get their keys only while `viewer` (or a child) has focus.
    """
    menus: dict[tuple[str, str], QMenu] = {}
    actions: dict[str, QAction] = {}
    groups: dict[str, list[QAction]] = {}
    for spec in ACTIONS:
        if (spec.menu, "") not in menus:
            menus[(spec.menu, "")] = window.menuBar().addMenu(spec.menu)
        if (spec.menu, spec.submenu) not in menus:
            menus[(spec.menu, spec.submenu)] = menus[(spec.menu, "")].addMenu(spec.submenu)
        action = QAction(spec.text, window)
        if spec.short:
            action.setIconText(spec.short)
        action.setObjectName(spec.name)
        action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        keys = ", ".join(spec.shortcuts)
        action.setToolTip(f"{spec.tip} ({keys})")
        action.setStatusTip(spec.tip)
        action.setCheckable(spec.checkable)
        action.triggered.connect(handler(spec.name))
        menus[(spec.menu, spec.submenu)].addAction(action)
        if spec.viewer_only:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            viewer.addAction(action)
        else:
            window.addAction(action)  # shortcuts work with the menu bar hidden too
        if spec.group:
            groups.setdefault(spec.group, []).append(action)
        actions[spec.name] = action
    for members in groups.values():
        group = QActionGroup(window)
        for action in members:
            group.addAction(action)
    return actions


def shortcut_rows() -> list[tuple[str, str, str, str]]:
    """(menu, command, keys, what it does) for the help dialog, in menu order."""
    return [(" > ".join(m for m in (s.menu, s.submenu) if m).replace("&", ""), s.text.replace("&", ""),
             ", ".join(s.shortcuts), s.tip) for s in ACTIONS]
