"""`radview pacs ...`: nodes, test connection, query, retrieve into the cache, send."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from radview.commands.terminal import TerminalProgressBar, user_settings


def _node(args: argparse.Namespace):
    return user_settings().pacs_node(args.node)


def cmd_nodes(args: argparse.Namespace) -> int:
    from radview.core.pacs import PacsNode

    settings = user_settings()
    if not settings.pacs_nodes:
        print("No PACS nodes yet: radview pacs add NAME --dimse AE@HOST:PORT | --dicomweb URL")
    for node in map(PacsNode.from_dict, settings.pacs_nodes):
        print(f"{node.name}: {node.kind} {node.describe()}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from radview.core.pacs import DICOMWEB, DIMSE, SECRET_FIELDS, PacsNode
    from radview.core.settings import save_settings
    from radview.user_dirs import pacs_secrets, settings_path

    if bool(args.dimse) == bool(args.dicomweb):
        raise ValueError("give exactly one of --dimse AE@HOST:PORT or --dicomweb URL")
    if args.dimse:
        try:
            ae, address = args.dimse.split("@", 1)
            host, port = address.rsplit(":", 1)
            node = PacsNode(args.name, DIMSE, ae, host, int(port), args.our_ae, "C-MOVE" if args.move_port else "C-GET",
                            args.move_port or 11112)
        except ValueError as error:
            raise ValueError(f"--dimse {args.dimse!r}: expected AE@HOST:PORT") from error
    else:
        node = PacsNode(args.name, DICOMWEB, url=args.dicomweb, username=args.user or "",
                        password=os.environ.get("RADVIEW_PACS_PASSWORD", ""), token=os.environ.get("RADVIEW_PACS_TOKEN", ""))
    problems = node.problems()
    if problems:
        raise ValueError("; ".join(problems))
    settings = user_settings()
    kept = [n for n in settings.pacs_nodes if n.get("name", "").lower() != node.name.lower()]
    replaced = len(kept) < len(settings.pacs_nodes)
    settings.pacs_nodes = kept + [node.to_dict()]
    secrets = pacs_secrets()
    notes = save_settings(settings, settings_path(), secrets)  # the password / token go to `secrets`, not the file
    for name in SECRET_FIELDS:
        if replaced and not getattr(node, name):
            secrets.delete(node.name, name)  # the node replaced had one perhaps: it must not linger
    print(f"saved PACS node {node.describe()} in {settings_path()}")
    for note in notes:
        print(note)
    return 0


def cmd_echo(args: argparse.Namespace) -> int:
    from radview.pacs.client import check_connection

    print(check_connection(_node(args)))
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from radview.core.pacs import StudyQuery
    from radview.pacs.client import find_studies

    query = StudyQuery(args.patient_name, args.patient_id, args.date_from, args.date_to, args.modality, args.accession)
    records = find_studies(_node(args), query)
    for r in records:
        print(f"{r.study_date or '-':8}  {r.patient_name:24.24}  {r.patient_id:12.12}  {'/'.join(r.modalities):8}  "
              f"{r.accession_number:12.12}  {r.description:24.24}  {r.study_instance_uid}")
    print(f"{len(records)} stud{'y' if len(records) == 1 else 'ies'}")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in records], indent=1))
    return 0


def cmd_retrieve(args: argparse.Namespace) -> int:
    from radview.pacs.client import retrieve_study
    from radview.user_dirs import data_dir

    cache = Path(args.cache) if args.cache else data_dir() / "cache"
    bar = TerminalProgressBar()
    try:
        folder = retrieve_study(_node(args), args.study_uid, cache, progress=bar)
    finally:
        bar.end()
    print(f"retrieved {sum(1 for p in folder.rglob('*.dcm'))} instance(s) into {folder}")
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    from radview.pacs.client import send_files

    files = []
    for path in map(Path, args.paths):
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    bar = TerminalProgressBar()
    try:
        sent = send_files(_node(args), files, progress=bar)
    finally:
        bar.end()
    print(f"sent {sent} file(s) to {args.node}")
    return 0


def register(sub) -> None:
    """Add `radview pacs ...` to the command-line parser; PacsError and KeyError exit 2 with the message."""
    pacs = sub.add_parser("pacs", help="PACS nodes: test, query, retrieve into the cache, send (DIMSE or DICOMweb)")
    commands = pacs.add_subparsers(dest="pacs_command", required=True)
    p = commands.add_parser("nodes", help="list the PACS nodes in the settings")
    p.set_defaults(func=cmd_nodes)
    p = commands.add_parser("add", help="add or replace a PACS node (DICOMweb password/token from "
                                        "RADVIEW_PACS_PASSWORD / RADVIEW_PACS_TOKEN, never the command line)")
    p.add_argument("name")
    p.add_argument("--dimse", metavar="AE@HOST:PORT")
    p.add_argument("--our-ae", default="RADVIEW", help="our AE title (default RADVIEW)")
    p.add_argument("--move-port", type=int, help="retrieve by C-MOVE to this local port (default: C-GET)")
    p.add_argument("--dicomweb", metavar="URL")
    p.add_argument("--user", help="DICOMweb basic-auth user")
    p.set_defaults(func=cmd_add)
    p = commands.add_parser("echo", help="test the connection (C-ECHO or a QIDO-RS probe)")
    p.add_argument("node")
    p.set_defaults(func=cmd_echo)
    p = commands.add_parser("query", help="find studies (C-FIND or QIDO-RS)")
    p.add_argument("node")
    p.add_argument("--patient-name", default="", help="e.g. 'DOE*'")
    p.add_argument("--patient-id", default="")
    p.add_argument("--from", dest="date_from", default="", metavar="YYYYMMDD")
    p.add_argument("--to", dest="date_to", default="", metavar="YYYYMMDD")
    p.add_argument("--modality", default="")
    p.add_argument("--accession", default="")
    p.add_argument("--json", metavar="FILE", help="also write the studies as JSON")
    p.set_defaults(func=cmd_query)
    p = commands.add_parser("retrieve", help="fetch a study into the local cache (C-GET / C-MOVE or WADO-RS)")
    p.add_argument("node")
    p.add_argument("study_uid")
    p.add_argument("--cache", help="folder (default: the user data folder's cache)")
    p.set_defaults(func=cmd_retrieve)
    p = commands.add_parser("send", help="store files or folders on the node (C-STORE or STOW-RS)")
    p.add_argument("node")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=cmd_send)


def run(args: argparse.Namespace) -> int:
    """Run a pacs sub-command; a failure is one line on stderr naming the node, exit 2."""
    from radview.pacs.common import PacsError

    try:
        return int(args.func(args))
    except (PacsError, KeyError) as error:
        print(f"radview: {error.args[0] if isinstance(error, KeyError) else error}", file=sys.stderr)
        return 2
