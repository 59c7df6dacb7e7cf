"""A dark, low-glare theme for the reading room: grey chrome, no bright surfaces around images."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

STYLE_SHEET = """
QToolTip { color: #e0e0e0; background: #2a2a2a; border: 1px solid #555; }
QLabel#paneTitle { color: #9a9a9a; background: #1b1b1b; padding: 1px 4px; font-size: 11px; }
QLabel#paneTitle[active="true"] { color: #ffd25a; background: #2b2615; }
QTreeWidget { background: #1e1e1e; alternate-background-color: #232323; }
QStatusBar { color: #c8c8c8; }
QDockWidget::title { background: #262626; padding: 3px; }
"""


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style with a dark palette and the stylesheet above."""
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
    app.setStyleSheet(STYLE_SHEET)
