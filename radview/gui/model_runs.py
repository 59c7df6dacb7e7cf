"""Running the AI models from the window: warm-up, choosing the models that apply, one task per
model, and turning each result into a mask layer and flags (the review takes the findings)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from radview.core.overlays import LabelLayer, LabelStyle, Marker, MarkerLayer
from radview.core.settings import Settings
from radview.core.volume import Volume
from radview.dicom.stacks import Stack
from radview.gui.error_dialog import readable, show_error
from radview.gui.findings_panel import describe_size
from radview.gui.viewer_area import ViewerArea
from radview.gui.workers import TaskContext, TaskRunner
from radview.workflow.model_selection import (available_models, describe, models_for, not_applicable_run, run_record,
                                             volume_label)

log = logging.getLogger("radview.gui")


class ModelRuns(QObject):
    """The window's AI driver; `finished` carries each ModelResult that reached the views."""

    finished = Signal(object)
    recorded = Signal(object, object)  # ModelRun, and the ModelResult when the model ran (else None)

    def __init__(self, runner: TaskRunner, area: ViewerArea, settings: Settings,
                 parent: QWidget, show_status: Callable[[str, int], None]) -> None:
        super().__init__(parent)
        self._runner, self._area, self._settings = runner, area, settings
        self._parent, self._status = parent, show_status

    def warm_up(self) -> None:
        """Load torch and MONAI in the background once the window shows (see radview.ai.warmup).
        On the first start, also run one model and say which device the AI uses."""
        first_start = not self._settings.ai_check
        settings = self._settings

        def work(ctx: TaskContext) -> tuple[float, str]:
            from radview.ai.warmup import warm_up

            seconds = warm_up()
            if not first_start:
                return seconds, ""
            from radview.ai.device_report import check_model_runs, compute_device
            from radview.ai.registry import find_models

            cards, _refused = find_models(settings.model_folders)
            if not cards:
                raise RuntimeError("no model package was found, so the AI cannot run (see radview doctor)")
            device = compute_device(settings.device)
            _used, run_s = check_model_runs(cards[0], settings.device)
            return seconds, f"AI check passed: {cards[0].id} ran on {device.description} in {run_s:.1f} s"

        def done(result: tuple[float, str]) -> None:
            seconds, message = result
            log.info("AI stack loaded in %.2f s", seconds)
            if message:
                settings.ai_check = message
                log.info("%s", message)
                self._status(message, 20000)

        self._runner.run("Loading AI", work, done, self._error, key="ai:warmup", cancellable=False)

    def run_applicable(self, volume: Volume, stack: Stack, is_current: Callable[[Volume], bool]) -> None:
        """Run every model made for a fully loaded series, each as its own cancellable task; say
        which models were not made for it and why. Results for a series no longer shown
        (`is_current` false) are dropped."""

        def find(ctx: TaskContext):
            from radview.ai.registry import find_models

            cards, refused = find_models(self._settings.model_folders)
            return models_for(cards, volume), refused

        def found(result) -> None:
            chosen, refused = result
            for r in refused:
                log.warning("model refused: %s", r.reason)
                self._status(f"Model refused: {r.reason}", 15000)
            for card, mismatches in chosen.near_misses():
                self.recorded.emit(not_applicable_run(card, volume, mismatches), None)
            if not chosen.applicable:
                misses = "; ".join(f"{c.id}: {describe(m)}" for c, m in chosen.near_misses())
                self._status(f"No model was made for {volume.modality} {stack.description}"
                             + (f" ({misses}). AI > Run a Model by Hand... runs one anyway." if misses else ""), 15000)
            for card in chosen.applicable:
                self.run(card, volume, is_current)

        self._runner.run("Finding models", find, found, self._error, key="ai:find")

    def run_by_hand(self, volume: Volume, is_current: Callable[[Volume], bool]) -> None:
        """AI > Run a Model by Hand: every model with the rules it breaks; a warning names them."""
        from radview.gui.model_choice_dialog import ModelChoiceDialog

        dialog = ModelChoiceDialog(models_for(available_models(self._settings.model_folders), volume),
                                   volume_label(volume), self._parent)
        if dialog.exec() and dialog.chosen is not None:
            card, mismatches = dialog.chosen
            self.run(card, volume, is_current, mismatches)

    def run(self, card, volume: Volume, is_current: Callable[[Volume], bool], mismatches: list | None = None) -> None:
        """Run one model on `volume`; `mismatches`: the card's rules the series breaks (a run by hand)."""
        def work(ctx: TaskContext):
            from radview.ai.engine import run_model

            # leave the window a core: torch on every core starves the GUI thread
            return run_model(card, volume, self._settings.device, ctx.report, ctx.cancel,
                             cpu_threads=max(1, (os.cpu_count() or 2) - 1), mismatches=mismatches)

        def done(result) -> None:
            if is_current(volume):  # else the radiologist moved on to another series
                self._show(result, volume)

        self._runner.run(f"AI {card.id}", work, done, self._error, key=f"ai:{card.id}")

    def _show(self, result, volume: Volume) -> None:
        card = result.card
        run = run_record(result, volume)
        uid = volume.series_instance_uid
        # a re-run replaces the earlier run's mask and flags; a refused one leaves none on screen
        self._area.remove_layers_named(uid, f"{card.id} ")
        if not result.input_refused:
            colors = {o.code[0]: o.color for o in card.outputs}
            styles = {f.mask_label: LabelStyle(f"{f.finding_type.meaning} {f.mask_label}", colors[f.finding_type.value])
                      for f in result.findings if f.mask_label}
            self._area.add_label_layer(LabelLayer(f"{card.id} {card.version} mask", uid, result.labels, styles, 0.45))
            markers = [Marker(f.id, np.array(f.centre_lps_mm), f.size_mm or 10.0,
                              f"{f.finding_type.meaning} {describe_size(f)}") for f in result.findings]
            self._area.add_marker_layer(MarkerLayer(f"{card.id} {card.version} flags", uid, markers))
            notes = "; ".join(result.notes)
            self._status(f"{card.id}: {len(result.findings)} finding(s) on {result.device} — suggestions to verify. "
                         f"{notes}", 10000)
        else:
            self._status(run.statement(), 30000)
        self.recorded.emit(run, result)
        self.finished.emit(result)

    def _error(self, exc: BaseException) -> None:
        show_error(self._parent, "AI model failed", readable(exc), "The images are unaffected; other models still run.")
