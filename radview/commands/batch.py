"""`radview batch SOURCE --out DIR`: every study of an archive, one Dask task per study."""

from __future__ import annotations

import argparse
from pathlib import Path

from radview.commands.terminal import TerminalProgressBar, user_settings


def cmd_batch(args: argparse.Namespace) -> int:
    try:
        import dask.distributed  # noqa: F401
    except ImportError:  # the packaged workstation application leaves Dask out
        print("radview batch needs Dask, which this installation lacks (the packaged application leaves it out): "
              "install RadView from source with pip on the machine that runs the batch (README: Batch analysis on Dask)")
        return 2
    from radview.user_dirs import data_dir
    from radview.workflow.analyze import AnalyzeOptions
    from radview.workflow.batch import run_batch

    settings = user_settings()
    options = AnalyzeOptions(reader=args.reader or settings.reader_name or "radview batch", device=settings.device,
                             institution=settings.institution, page_size=settings.page_size, dicom=args.dicom,
                             lock_wait_s=args.wait)
    bar = TerminalProgressBar()

    def started(summary) -> None:
        where = args.scheduler or f"a local cluster of {summary.workers} worker process(es)"
        print(f"{len(summary.skipped)} of {summary.studies} stud(ies) already done with "
              + ", ".join(f"{m} {v}" for m, v in summary.models.items()) + f"; running the rest on {where}", flush=True)
        print(f"Dask dashboard: {summary.dashboard or 'not available (pip install bokeh)'}", flush=True)

    try:
        summary = run_batch(args.source, Path(args.out), options, scheduler=args.scheduler, workers=args.workers,
                            model_ids=args.models.split(",") if args.models else None,
                            model_folders=settings.model_folders,
                            # a cluster's workers keep their own accounts' workspaces; local ones share this one
                            data_root=None if args.scheduler else data_dir(), retries=args.retries,
                            pacs_node=settings.pacs_node, progress=bar, on_start=started)
    finally:
        bar.end()
    for note in summary.notes:
        print(f"note: {note}")
    findings = sum(1 for r in summary.done for row in r.rows if row["row_kind"] == "finding")
    print(f"{len(summary.done)} stud(ies) analysed ({findings} finding(s)), {len(summary.skipped)} already done, "
          f"{len(summary.failed)} failed, in {summary.seconds:.0f} s"
          + (f" ({summary.studies_per_hour:.0f} studies/hour)" if summary.done else ""))
    retried = [r for r in summary.done if r.attempt > 1]
    if retried:
        print(f"{len(retried)} stud(ies) needed more than one attempt (a retry, or a worker lost mid-study)")
    for failure in summary.failed:
        print(f"FAILED {failure['study_instance_uid']} ({failure['label']}): {failure['reason']}")
    print(f"table: {summary.table}  (a row per finding and per study)")
    if summary.failed:
        print("Run the same command again to retry the failed studies; the done ones are skipped.")
        return 1
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("batch", help="analyse every study of a folder tree or a PACS query on a Dask cluster; "
                                     "resumable; writes per-study outputs and findings.parquet")
    p.add_argument("source", help="a folder tree of DICOM studies, or pacs:NODE?field=value&... (fields: patient_name, "
                                  "patient_id, date_from, date_to, modality, accession_number; dates YYYYMMDD)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder: one sub-folder per study, findings.parquet")
    p.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler (tcp://host:8786); "
                                                          "default: a local cluster on this machine")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="local worker processes (default 1)")
    p.add_argument("--models", metavar="IDS", help="comma-separated model ids (default: every model that applies)")
    p.add_argument("--dicom", action="store_true", help="also write DICOM SEG, SR, encapsulated PDF and key images")
    p.add_argument("--reader", default="", help="who the audit log names (default: the settings' reader_name)")
    p.add_argument("--retries", type=int, default=2, metavar="N", help="retries of a failed study (default 2)")
    p.add_argument("--wait", type=float, default=120.0, metavar="SECONDS",
                   help="how long a task waits for a study another RadView program has open (default 120)")
    p.set_defaults(func=cmd_batch)
