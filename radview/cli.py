"""The `radview` command line: headless drivers of the same flow the window uses. Each command is a
module of radview.commands with `register(sub)`; with no command, the window opens."""

from __future__ import annotations

import argparse
import sys

from radview import __version__
from radview.commands import (analyze, anonymize, audit, batch, bench, convert, demo, doctor, evaluate, info, inputs,
                              models, monitor, pacs, train)
from radview.core.study_lock import StudyInUse

COMMAND_MODULES = (demo, info, convert, models, train, evaluate, analyze, batch, anonymize, pacs, doctor, inputs, audit,
                   monitor, bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="radview", description="RadView radiology review workstation")
    parser.add_argument("--version", action="version", version=f"radview {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def build_gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="radview",
        description="RadView radiology review workstation. With no command, opens the window "
        "(on PATH if given). Commands: " + ", ".join(sorted(COMMANDS)) + " (radview COMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"radview {__version__}")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="DICOM folder(s), file(s) or DICOMDIR to open")
    parser.add_argument("--screenshot", metavar="PNG", help="save the window once the first series shows")
    parser.add_argument("--quit-after-shown", action="store_true", help="exit once the first series shows")
    parser.add_argument("--after-ai", action="store_true",
                        help="with --screenshot or --quit-after-shown: wait until the models run on open show their "
                             "findings (at most 10 min)")
    parser.add_argument("--self-test", action="store_true",
                        help="open the demo study in a real window, run the AI, export a PDF to a temporary folder; "
                             "exit 0 when all worked (the packaged build's smoke test)")
    parser.add_argument("--self-test-keep", metavar="DIR", help="with --self-test: leave the demo study and PDF in DIR")
    return parser


COMMANDS = {"demo", "info", "convert", "models", "train", "evaluate", "analyze", "inputs", "anonymize", "pacs", "doctor", "audit", "bench",
            "batch", "monitor"}


def main(argv: list[str] | None = None) -> int:
    """Run the command line (or the window when no command is given); returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        gui_args = build_gui_parser().parse_args(argv)
        if gui_args.self_test:
            from radview.gui.self_test import run_self_test

            return run_self_test(gui_args.self_test_keep)
        from radview.gui.app import run_app

        return run_app(gui_args.paths, gui_args.screenshot, gui_args.quit_after_shown, gui_args.after_ai)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "pacs":
            return pacs.run(args)
        return int(args.func(args))
    except StudyInUse as exc:
        print(f"radview: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
    # Evaluated only once an exception got this far, so the services load only when needed.
    except bad_input_errors() as exc:
        print(f"radview: {describe_bad_input(exc)}", file=sys.stderr)
        return 2


def bad_input_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean the input (a file, a folder, a model package, an argument) is unusable:
    one line and exit 2, never a traceback. Anything else is a bug and keeps its traceback."""
    from radview.ai.card import CardError
    from radview.dicom.header import HeaderError
    from radview.dicom.load import LoadError
    from radview.dicom.pixels import PixelError

    return (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError, FileExistsError, ValueError,
            LoadError, HeaderError, PixelError, CardError)


def describe_bad_input(exc: BaseException) -> str:
    """'<file>: <problem>': the services' messages already start with the file; an OSError names it here."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) or type(exc).__name__  # one line, whatever the message
