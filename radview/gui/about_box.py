"""Help > About: version and folders at once, the `radview doctor` report when it is collected."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from radview import __version__
from radview.core.settings import Settings
from radview.gui.error_dialog import readable
from radview.gui.workers import TaskContext, TaskRunner
from radview.logs import log_file
from radview.user_dirs import data_dir

PENDING = "Checking the AI device and models..."


def show_about(parent: QWidget, settings: Settings, settings_path: Path, runner: TaskRunner) -> QMessageBox:
    """Open the box now; versions, AI device, models and checksums follow from a worker (torch loads there)."""
    box = QMessageBox(QMessageBox.Icon.Information, "About RadView",
                      f"RadView {__version__}\n\nSettings: {settings_path}\nLog file: {log_file()}\n"
                      f"Study workspaces: {data_dir()}\n\nA review workstation. AI results are suggestions for a "
                      f"radiologist to verify, never a diagnosis.\n\n{PENDING}", parent=parent)
    box.setObjectName("aboutBox")
    box.open()

    def work(ctx: TaskContext) -> str:
        from radview.workflow.doctor import doctor_report, format_report
        return format_report(doctor_report(settings.device, settings.model_folders))

    def shown(text: str) -> None:
        box.setText(box.text().replace(PENDING, text.splitlines()[1]))  # line 2: "AI device: ..."
        box.setDetailedText(text)

    runner.run("Collecting system information", work, shown, lambda e: box.setDetailedText(readable(e)), key="about")
    return box
