"""Errors reach the user as a readable message; the traceback goes to the log file.

`install_exception_hook` turns any uncaught exception (GUI thread or worker thread) into a dialog
instead of a dead application.
"""

from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from radview.logs import log_file

log = logging.getLogger("radview.gui")


def readable(exc: BaseException) -> str:
    """The message a person can act on: our errors already name the file; others get their type."""
    text = str(exc).strip()
    if isinstance(exc, (OSError, ValueError, KeyError)) or type(exc).__module__.startswith("radview"):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def show_error(parent: QWidget | None, title: str, message: str, advice: str = "") -> None:
    """A modal error box: what failed, the readable reason, what to do, where the details are."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    info = (advice + "\n\n" if advice else "") + f"Details are in the log file:\n{log_file()}"
    box.setInformativeText(info)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setObjectName("errorDialog")
    box.open()  # not exec(): never block the event loop (workers keep delivering)


class _ExceptionBridge(QObject):
    """Carries an exception raised on any thread to the GUI thread."""

    raised = Signal(str)


_bridge: _ExceptionBridge | None = None


def install_exception_hook(parent_of_dialogs: QWidget | None = None) -> None:
    """Uncaught exceptions (any thread) are logged and shown in a dialog; the app keeps running."""
    global _bridge
    _bridge = _ExceptionBridge()
    _bridge.raised.connect(
        lambda message: show_error(
            parent_of_dialogs,
            "Unexpected error",
            f"RadView met an unexpected error: {message}",
            "Your work is kept. If this happens again, please send the log file to support.",
        )
    )

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("uncaught exception", exc_info=(exc_type, exc, tb))
        if _bridge is not None:
            _bridge.raised.emit(readable(exc))

    sys.excepthook = hook
    threading.excepthook = lambda args: hook(args.exc_type, args.exc_value, args.exc_traceback)  # type: ignore[arg-type]
