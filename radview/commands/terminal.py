"""What the command-line drivers share: a progress bar on the terminal, the user's settings."""

from __future__ import annotations

import sys
from pathlib import Path


def print_progress(progress) -> None:
    if sys.stderr.isatty():
        print(f"\r{progress.message}: {progress.done}/{progress.total}", end="", file=sys.stderr, flush=True)


def end_progress() -> None:
    """End the progress line print_progress keeps rewriting."""
    if sys.stderr.isatty():
        print(file=sys.stderr)


class TerminalProgressBar:
    """A one-line bar on stderr: `[#####.....] 3/5 message` (only when stderr is a terminal)."""

    WIDTH = 30

    def __init__(self) -> None:
        self.shown = sys.stderr.isatty()

    def __call__(self, progress) -> None:
        if not self.shown:
            return
        filled = int(self.WIDTH * progress.done / progress.total) if progress.total else 0
        line = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {progress.done}/{progress.total} {progress.message}"
        print(f"\r{line[:110]:110s}", end="", file=sys.stderr, flush=True)

    def end(self) -> None:
        if self.shown:
            print(file=sys.stderr)


def nothing_usable(path: str | Path, problems: list[str]) -> int:
    """No image could be used: one line `radview: <file>: <problem>` per problem on stderr; exit 2."""
    for problem in problems or [f"{path}: no DICOM images found"]:
        print(f"radview: {problem}", file=sys.stderr)
    return 2


def user_settings():
    """The settings file, its problems printed to stderr (never fatal)."""
    from radview.core.settings import load_settings
    from radview.user_dirs import settings_path

    settings, problems = load_settings(settings_path())
    for problem in problems:
        print(f"radview: {problem}", file=sys.stderr)
    return settings


def model_folders() -> list[str]:
    """The settings' extra model folders."""
    from radview.core.settings import load_settings
    from radview.user_dirs import settings_path

    return load_settings(settings_path())[0].model_folders


def model_cases(card, data: str | None, part: str):
    """The card's phantom cases of `part`, or a site folder's cases."""
    from radview.workflow.training_data import recipe_cases, site_cases

    return recipe_cases(card, part) if data in (None, "phantoms") else site_cases(Path(data), card)
