"""`radview batch`: Dask tasks per study, the same session as analyze, resume, failures, a killed worker.

The archive is chest radiographs of different synthetic patients (new UIDs per seed), the
smallest demo study the real cxr-nodule model runs on in a few seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from radview.core.pacs import PacsNode
from radview.workflow.analyze import AnalyzeOptions
from radview.workflow.batch import run_batch
from radview.workflow.batch_records import RECORD_NAME, read_record
from radview.workflow.batch_sources import parse_pacs_source
from radview.workflow.batch_table import read_table
from radview.workflow.batch_task import ATTEMPTS_NAME
from tests.conftest import radview_command


def write_radiographs(root: Path, seeds: tuple[int, ...]) -> dict[int, Path]:
    """A chest radiograph per seed, each a study of its own patient: root/p<seed>/chest-xray/IM0001."""
    from radview.demo.identity import synthetic_patient
    from radview.demo.writer import write_chest_xray

    folders = {}
    for seed in seeds:
        truth = root / "truth" / f"p{seed}"
        truth.mkdir(parents=True, exist_ok=True)
        write_chest_xray(synthetic_patient(seed), root / "archive" / f"p{seed}", truth)
        folders[seed] = root / "archive" / f"p{seed}"
    return folders


def _study_uid(folder: Path) -> str:
    import pydicom

    return pydicom.dcmread(next(p for p in folder.rglob("*") if p.is_file()), stop_before_pixels=True).StudyInstanceUID


def _check_exactly_once(out: Path, data_root: Path) -> list[dict]:
    """Each done study: one study row and one row per finding of findings.json, no finding twice,
    and its workspace review holds each finding once."""
    rows = read_table(out / "findings.parquet")
    studies = [r for r in rows if r["row_kind"] == "study"]
    assert len({r["study_instance_uid"] for r in studies}) == len(studies)
    for study in (r for r in studies if r["status"] == "done"):
        uid = study["study_instance_uid"]
        written = json.loads((out / uid / "findings.json").read_text())
        mine = [r for r in rows if r["row_kind"] == "finding" and r["study_instance_uid"] == uid]
        assert sorted(r["finding_id"] for r in mine) == sorted(f["original"]["id"] for f in written["findings"])
        assert study["findings"] == len(mine) and len({r["finding_id"] for r in mine}) == len(mine)
        review = json.loads((data_root / "studies" / uid / "review.json").read_text())
        assert len(review["findings"]) == len(mine)
    return rows


def test_batch_runs_the_real_models_per_study_and_a_rerun_skips_the_done_ones(tmp_path):
    folders = write_radiographs(tmp_path, (0, 1))
    home, out = tmp_path / "home", tmp_path / "out"
    done = radview_command(home, "batch", str(tmp_path / "archive"), "--out", str(out), "--workers", "2",
                           "--models", "cxr-nodule", "--reader", "Dr Batch")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Dask dashboard: http://" in done.stdout
    assert "2 stud(ies) analysed" in done.stdout and "0 failed" in done.stdout
    rows = _check_exactly_once(out, home / "data")
    assert {r["study_instance_uid"] for r in rows} == {_study_uid(f) for f in folders.values()}
    findings = [r for r in rows if r["row_kind"] == "finding"]
    assert findings, "the demo radiograph of seed 0 has nodules the model finds"
    assert all(r["model_id"] == "cxr-nodule" and r["model_version"] and r["size_mm"] > 0 and r["location"]
               and 0 < r["confidence"] <= 1 and r["review_status"] == "unreviewed" and r["modality"] == "DX"
               for r in findings)
    for uid in {r["study_instance_uid"] for r in rows}:  # as analyze writes them, and the audit log
        assert {"findings.json", "report.html", "report.pdf", RECORD_NAME} <= {p.name for p in (out / uid).iterdir()}
        assert (home / "data" / "studies" / uid / "audit.jsonl").is_file()
    workers = {r["worker"] for r in rows if r["row_kind"] == "study"}
    assert workers <= {"0", "1"}

    again = radview_command(home, "batch", str(tmp_path / "archive"), "--out", str(out), "--models", "cxr-nodule")
    assert again.returncode == 0, again.stderr
    assert "0 stud(ies) analysed" in again.stdout and "2 already done" in again.stdout
    assert read_table(out / "findings.parquet") == rows  # the same table, nothing twice


def test_a_killed_worker_loses_and_duplicates_nothing_and_a_bad_study_is_listed(tmp_path):
    """One worker: the study it is analysing is killed (SIGKILL) mid-study; Dask moves it to the
    restarted worker and it is done once. A study whose file vanished after the scan fails with
    its reason, without stopping the other."""
    folders = write_radiographs(tmp_path, (0, 3))
    victim, vanished = _study_uid(folders[0]), _study_uid(folders[3])
    out, data_root = tmp_path / "out", tmp_path / "data"
    killed: list[int] = []
    stop = threading.Event()

    def kill_when_started() -> None:
        attempts = out / victim / ATTEMPTS_NAME
        while not stop.is_set() and not killed:
            try:
                note = json.loads(attempts.read_text())
            except (OSError, ValueError):
                time.sleep(0.05)
                continue
            time.sleep(1.0)  # inside the study: its session is open, its lock taken
            os.kill(note["pid"], signal.SIGKILL)
            killed.append(note["pid"])

    def started(summary) -> None:
        shutil.rmtree(folders[3])  # listed by the scan, gone before its task reads it
        threading.Thread(target=kill_when_started, daemon=True).start()

    try:
        summary = run_batch(str(tmp_path / "archive"), out, AnalyzeOptions(reader="Dr Batch", lock_wait_s=30),
                            workers=1, model_ids=["cxr-nodule"], data_root=data_root, on_start=started, retries=1)
    finally:
        stop.set()
    assert killed, "the worker was killed during the study"
    assert [r.study_instance_uid for r in summary.done] == [victim]
    assert summary.done[0].attempt == 2  # begun by the killed worker, finished by its successor
    assert [f["study_instance_uid"] for f in summary.failed] == [vanished]
    assert "IM0001" in summary.failed[0]["reason"]
    rows = _check_exactly_once(out, data_root)
    failed_row = next(r for r in rows if r["study_instance_uid"] == vanished)
    assert failed_row["status"] == "failed" and failed_row["reason"] == summary.failed[0]["reason"]
    assert json.loads((out / "batch-failures.json").read_text())[0]["study_instance_uid"] == vanished
    assert read_record(out / victim).attempt == 2 and not (out / victim / ATTEMPTS_NAME).exists()


def test_a_pacs_source_is_queried_then_retrieved_study_by_study(tmp_path, monkeypatch):
    """pacs:NODE?query: C-FIND on the client, a retrieve per task into a temporary folder (removed
    afterwards). Workers as threads here, so the PACS client can be replaced in this process."""
    from radview.core.pacs import StudyRecord

    folders = write_radiographs(tmp_path, (0,))
    uid = _study_uid(folders[0])
    node = PacsNode("archive", "dimse", "ORTHANC", "127.0.0.1", 4242)
    asked, retrieved = [], []

    def find_studies(n, query):
        asked.append((n.name, query))
        return [StudyRecord(uid, "PHANTOM^ZERO", "RV000000", "20261016")]

    def retrieve_study(n, study_uid, cache, progress=None, cancel=None):
        target = cache / study_uid
        shutil.copytree(folders[0], target)
        retrieved.append(target)
        return target

    monkeypatch.setattr("radview.pacs.client.find_studies", find_studies)
    monkeypatch.setattr("radview.pacs.client.retrieve_study", retrieve_study)
    # documents=False: no PDF, so no QGuiApplication in this process (a later GUI test needs a QApplication)
    summary = run_batch("pacs:archive?modality=DX&date_from=20260101", tmp_path / "out", AnalyzeOptions(documents=False),
                        model_ids=["cxr-nodule"], data_root=tmp_path / "data", pacs_node=lambda name: node,
                        processes=False)
    assert asked[0][0] == "archive" and asked[0][1].modality == "DX" and asked[0][1].date_from == "20260101"
    assert [r.study_instance_uid for r in summary.done] == [uid] and not summary.failed
    assert retrieved and not retrieved[0].exists()  # the retrieved images do not fill the worker's disk
    assert (tmp_path / "out" / uid / "findings.json").is_file()


def test_pacs_sources_name_their_query_fields():
    assert parse_pacs_source("pacs:main")[0] == "main"
    with pytest.raises(ValueError, match="unknown query field.*body_part.*known: patient_name"):
        parse_pacs_source("pacs:main?body_part=CHEST")
    with pytest.raises(ValueError, match="expected pacs:NODE"):
        parse_pacs_source("pacs:")
