"""`radview analyze PATH --out DIR`: the reading workflow without a window, study by study."""

from __future__ import annotations

import argparse
from pathlib import Path

from radview.commands.terminal import TerminalProgressBar, user_settings


def cmd_analyze(args: argparse.Namespace) -> int:
    from radview.user_dirs import data_dir
    from radview.workflow.analyze import analyze

    settings = user_settings()
    bar = TerminalProgressBar()
    try:
        outputs = analyze(Path(args.path), Path(args.out), data_dir(), accept_all=args.accept_all,
                          reader=args.reader or settings.reader_name, nodule_risk=args.risk, device=settings.device,
                          model_folders=settings.model_folders, institution=settings.institution,
                          page_size=settings.page_size, dicom=args.dicom, progress=bar, lock_wait_s=args.wait)
    finally:
        bar.end()
    for o in outputs:
        print(f"study {o.study_instance_uid}: {o.findings} finding(s), {o.accepted} accepted; wrote "
              f"{o.folder / 'findings.json'}, {o.folder / 'report.html'}, {o.folder / 'report.pdf'} ({o.pdf_pages} page(s))")
        if o.dicom_files:
            print(f"  DICOM results in {o.folder / 'dicom'}: " + ", ".join(p.name for p in o.dicom_files))
        for note in o.notes:
            print(f"  note: {note}")
    if any(o.skipped for o in outputs):
        print(f"{sum(o.skipped for o in outputs)} stud(ies) open in another program were left out: run analyze again later.")
        return 3
    if not args.accept_all and any(o.findings for o in outputs):
        print("Findings are unreviewed and not in the report: review them in the window, or pass --accept-all.")
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("analyze", help="load, run the models, draft the report; write findings.json, report.html and report.pdf")
    p.add_argument("path", help="DICOM folder, file or DICOMDIR")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (one sub-folder per study when there are several)")
    p.add_argument("--accept-all", action="store_true", help="accept every AI finding (else they stay unreviewed)")
    p.add_argument("--reader", default="", help="reader name (default: the settings' reader_name)")
    p.add_argument("--risk", choices=["low", "high"], default=None,
                   help="the patient's nodule risk, for Fleischner 2017 (default: as the study's saved report, else low)")
    p.add_argument("--dicom", action="store_true",
                   help="also write DICOM SEG, SR (TID 1500), encapsulated PDF and key images into OUT/dicom")
    p.add_argument("--wait", type=float, default=120.0, metavar="SECONDS",
                   help="how long to wait for a study another RadView program has open (default 120)")
    p.set_defaults(func=cmd_analyze)
