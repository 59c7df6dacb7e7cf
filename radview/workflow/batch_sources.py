"""Where a batch run's studies come from: a folder tree, or a PACS node and a query.

A folder tree is scanned once by the client (headers only) and each study travels to its task
as a small StudyIndex of that study alone. A PACS source is a C-FIND (or QIDO-RS) on the client;
each task retrieves its one study (C-GET / C-MOVE or WADO-RS) into a temporary folder on its
worker, scans it there and removes it when the study is done, so an archive never fills a
worker's disk. The PACS secrets stay on the worker's account (radview.core.pacs.PacsSecrets).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import parse_qsl

from radview.core.pacs import PacsNode, StudyQuery
from radview.core.study_index import Study, StudyIndex
from radview.core.workspace import study_folder_name
from radview.workflow.study_opening import scan

PACS_PREFIX = "pacs:"


@dataclass(frozen=True)
class StudySource:
    """One study to analyse. index: the study's own StudyIndex (a folder source); node: the PACS
    it is retrieved from (a PACS source). workspace_id names its output folder."""

    study_instance_uid: str
    workspace_id: str
    label: str  # "patient id, study date": for the progress line and the failure list
    index: StudyIndex | None = None
    node: PacsNode | None = None

    @property
    def folder_name(self) -> str:
        return study_folder_name(self.workspace_id)


def is_pacs_source(source: str) -> bool:
    return source.startswith(PACS_PREFIX)


def parse_pacs_source(source: str) -> tuple[str, StudyQuery]:
    """"pacs:NODE?modality=CT&date_from=20250101" -> the node's name and the query (fields of
    radview.core.pacs.StudyQuery; an unknown field is a ValueError naming the known ones)."""
    name, _, query = source[len(PACS_PREFIX):].partition("?")
    if not name:
        raise ValueError(f"{source}: expected pacs:NODE or pacs:NODE?field=value&... (a node of `radview pacs nodes`)")
    known = [f.name for f in fields(StudyQuery)]
    values = dict(parse_qsl(query, keep_blank_values=False, strict_parsing=bool(query)))
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{source}: unknown query field(s) {', '.join(unknown)} (known: {', '.join(known)})")
    return name, StudyQuery(**values)


def folder_studies(path: Path) -> tuple[list[StudySource], list[str]]:
    """Every study under `path`, each with its own StudyIndex; and the files skipped, in words."""
    index = scan(path)
    sources = []
    for patient in index.patients:
        for study in patient.studies:
            alone = StudyIndex(root=index.root, patients=[replace(patient, studies=[study])],
                               file_count=sum(len(s.images) for s in study.series))
            sources.append(StudySource(study.study_instance_uid, study.workspace_id or study.study_instance_uid,
                                       f"{patient.patient_id or '?'}, {study.date or 'no date'}", index=alone))
    return sources, [f"{s.path}: {s.reason}" for s in index.skipped]


def pacs_studies(node: PacsNode, query: StudyQuery) -> list[StudySource]:
    """The studies the node answers the query with (C-FIND / QIDO-RS), newest first."""
    from radview.pacs.client import find_studies

    return [StudySource(r.study_instance_uid, r.study_instance_uid, f"{r.patient_id or '?'}, {r.study_date or 'no date'}",
                        node=node) for r in find_studies(node, query)]


@contextlib.contextmanager
def opened_study(source: StudySource, cache_root: Path | None = None) -> Iterator[tuple[StudyIndex, Study]]:
    """The study's index and Study, on the worker; a PACS study is retrieved first and its
    temporary folder removed afterwards."""
    if source.index is not None:
        yield source.index, source.index.patients[0].studies[0]
        return
    if source.node is None:
        raise ValueError(f"study {source.study_instance_uid}: neither a folder nor a PACS node to read it from")
    from radview.pacs.client import retrieve_study

    cache = Path(tempfile.mkdtemp(prefix="radview-batch-", dir=cache_root))
    try:
        folder = retrieve_study(source.node, source.study_instance_uid, cache)
        index = scan(folder)
        study = next((s for p in index.patients for s in p.studies if s.study_instance_uid == source.study_instance_uid),
                     None)
        if study is None:
            raise ValueError(f"{source.node.describe()}: study {source.study_instance_uid} was retrieved "
                             "but holds no readable image of that study")
        yield index, study
    finally:
        shutil.rmtree(cache, ignore_errors=True)
