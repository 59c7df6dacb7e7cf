"""`radview monitor`: how readers decide on each model version's findings, from the audit logs."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: expected a date, YYYY-MM-DD") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _verified(path: Path) -> list[str]:
    from radview.core.audit import verify_audit_log

    return verify_audit_log(path).problems


def cmd_monitor(args: argparse.Namespace) -> int:
    from radview.user_dirs import data_dir
    from radview.workflow.monitor import monitor
    from radview.workflow.monitor_report import write_reports

    root = Path(args.data) if args.data else data_dir()
    report = monitor(root, _since(args.since), check=None if args.no_verify else _verified)
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(f"{report['studies']} stud(ies) with audit logs under {root}"
          + (f", decisions since {report['since']}" if report["since"] else ""))
    for excluded in report["excluded"]:
        print(f"  left out {excluded['study']}: {excluded['problems'][0]}")
    for m in report["models"]:
        c, r, a, s = m["counts"], m["rates"], m["agreement"], m["size_edits"]
        rates = ", ".join(f"{k.replace('_rate', '')} {100 * v:.0f} %" for k, v in r.items() if v is not None)
        kappa = (f"kappa {a['kappa']:.2f} (95 % CI {a['ci_low']:.2f} to {a['ci_high']:.2f}, n={a['n']})"
                 if a["kappa"] is not None else f"kappa undefined (n={a['n']})")
        size = f"; mean size change {s['mean_change_mm']:+.1f} mm (n={s['n']})" if s["n"] else ""
        print(f"{m['model_id']} {m['model_version']}: {c['decided']} decided ({rates or 'none'}), "
              f"{c['unreviewed']} unreviewed, {c['accepted-unseen']} accepted unseen; {kappa}{size}")
    for path in write_reports(report, args.html, args.json, generated):
        print(f"wrote {path}")
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("monitor", help="AI monitoring from the audit logs: accept/edit/reject rates, reader-vs-AI "
                                       "agreement (kappa), size edits, by model version and week")
    p.add_argument("--since", metavar="DATE", help="only decisions on or after DATE (YYYY-MM-DD)")
    p.add_argument("--html", type=Path, metavar="FILE", help="write an HTML page with the figures")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the figures' data and the numbers as JSON")
    p.add_argument("--data", metavar="DIR", help="the data folder holding studies/ (default: this account's)")
    p.add_argument("--no-verify", action="store_true", help="do not check the audit logs' signatures first")
    p.set_defaults(func=cmd_monitor)
