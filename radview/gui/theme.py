"""A dark, low-glare theme for the reading room: grey chrome, no bright surfaces around images."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from radview.resources import resource_path

log = logging.getLogger("radview.gui.theme")



def apply_dark_theme(app: QApplication) -> None:
    """Fusion style with a dark palette and resources/theme.qss."""
    app.setStyle("Fusion")
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#202020",
        QPalette.ColorRole.WindowText: "#d8d8d8",
        QPalette.ColorRole.Base: "#1a1a1a",
        QPalette.ColorRole.AlternateBase: "#232323",
        QPalette.ColorRole.Text: "#d8d8d8",
        QPalette.ColorRole.Button: "#2b2b2b",
        QPalette.ColorRole.ButtonText: "#d8d8d8",
        QPalette.ColorRole.Highlight: "#3d5a80",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2a2a2a",
        QPalette.ColorRole.ToolTipText: "#e0e0e0",
        QPalette.ColorRole.PlaceholderText: "#808080",
        QPalette.ColorRole.Link: "#7aa7e0",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6a6a6a"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6a6a6a"))
    app.setPalette(palette)
    sheet = resource_path("theme.qss")
    if sheet is None:
        log.warning("resources/theme.qss not found: the window keeps Qt's default widget styles")
    else:
        app.setStyleSheet(sheet.read_text(encoding="utf-8"))
