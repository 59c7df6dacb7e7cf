"""Running the AI models from the window: warm-up, choosing the models that apply, one task per
model. Each run is a request of the open StudySession (radview.workflow.session): the model computes
in a worker, and the session takes the result, unless a newer request or another study made it
stale; the session view then shows its layers."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from radview.core.settings import Settings
from radview.core.volume import Volume
from radview.gui.error_dialog import readable, show_error
from radview.gui.session_view import SessionView
from radview.gui.workers import TaskContext, TaskRunner
from radview.workflow.model_requests import ModelRequest, compute
from radview.workflow.model_selection import (available_models, describe, find_model_cards, models_for, volume_label,
                                             warm_up_ai)
from radview.workflow.session import StudySession

log = logging.getLogger("radview.gui")


class ModelRuns(QObject):
    """The window's AI driver; `finished` carries each ModelResult the session took."""

    finished = Signal(object)

    def __init__(self, runner: TaskRunner, view: SessionView, settings: Settings,
                 parent: QWidget, show_status: Callable[[str, int], None]) -> None:
        super().__init__(parent)
        self._runner, self._view, self._settings = runner, view, settings
        self._parent, self._status = parent, show_status

    def warm_up(self) -> None:
        """Load torch and MONAI in the background once the window shows (see radview.ai.warmup).
        On the first start, also run one model and say which device the AI uses."""
        first_start = not self._settings.ai_check
        settings = self._settings

        def done(result: tuple[float, str]) -> None:
            seconds, message = result
            log.info("AI stack loaded in %.2f s", seconds)
            if message:
                settings.ai_check = message
                log.info("%s", message)
                self._status(message, 20000)

        self._runner.run("Loading AI", lambda ctx: warm_up_ai(settings.model_folders, settings.device, first_start),
                         done, self._error, key="ai:warmup", cancellable=False)

    def _session(self) -> StudySession | None:
        """The open study's session when the AI may write to it, else None (with a message)."""
        session = self._view.study
        if session is not None and not session.writable:
            self._status(f"⚠ The AI does not run on a read-only study: {session.read_only_reason}", 10000)
            return None
        return session

    def run_applicable(self, volume: Volume, description: str) -> None:
        """Run every model made for a fully loaded series, each as its own cancellable task; say
        which models were not made for it and why."""
        session = self._session()
        if session is None:
            return

        def found(result) -> None:
            cards, refused = result
            for r in refused:
                log.warning("model refused: %s", r.reason)
                self._status(f"Model refused: {r.reason}", 15000)
            if session.closed:
                return
            requests = session.plan_models(cards, volume, self._settings.device)
            if not requests:
                misses = "; ".join(f"{c.id}: {describe(m)}" for c, m in models_for(cards, volume).near_misses())
                self._status(f"No model was made for {volume.modality} {description}"
                             + (f" ({misses}). AI > Run a Model by Hand... runs one anyway." if misses else ""), 15000)
            for request in requests:
                self.run(session, request, volume)

        self._runner.run("Finding models", lambda ctx: find_model_cards(self._settings.model_folders), found,
                         self._error, key="ai:find")

    def run_by_hand(self, volume: Volume) -> None:
        """AI > Run a Model by Hand: every model with the rules it breaks; a warning names them."""
        from radview.gui.model_choice_dialog import ModelChoiceDialog

        session = self._session()
        if session is None:
            return
        dialog = ModelChoiceDialog(models_for(available_models(self._settings.model_folders), volume),
                                   volume_label(volume), self._parent)
        if dialog.exec() and dialog.chosen is not None:
            card, mismatches = dialog.chosen
            self.run(session, session.request(card, volume.series_instance_uid, self._settings.device, mismatches), volume)

    def run(self, session: StudySession, request: ModelRequest, volume: Volume) -> None:
        """Compute `request` in a worker; the session takes the result unless it is stale by then."""
        def work(ctx: TaskContext):
            # leave the window a core: torch on every core starves the GUI thread
            return compute(request, volume, ctx.report, ctx.cancel, cpu_threads=max(1, (os.cpu_count() or 2) - 1))

        def done(result) -> None:
            output = session.apply(request, result) if session.is_current(request) else None
            if output is None:
                log.info("result of %s dropped: the reader moved on or ran it again", request.key)
                return
            if output.run.withheld:
                self._status(output.run.statement(), 30000)
            else:
                notes = "; ".join(result.notes)
                self._status(f"{request.model_id}: {len(result.findings)} finding(s) on {result.device} — suggestions "
                             f"to verify. {notes}", 10000)
            self.finished.emit(result)

        self._runner.run(f"AI {request.model_id}", work, done, self._error, key=f"ai:{request.key}")

    def _error(self, exc: BaseException) -> None:
        show_error(self._parent, "AI model failed", readable(exc), "The images are unaffected; other models still run.")
