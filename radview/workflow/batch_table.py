"""The archive's table of a batch run: a row per finding and a row per study, in one Parquet file.

A batch task turns its study's review into rows (`study_rows`) and keeps them in the study's
done record (radview.workflow.batch_records); the table is rebuilt from those records at the end of
every run, so a study analysed twice (a retry, a worker killed mid-study, a rerun) is one set of
rows, never two.
"""

from __future__ import annotations

from pathlib import Path

from radview.core.review import Review, ReviewStatus

# Column -> Arrow type name (the schema, in order). Sizes in mm; confidence 0..1.
COLUMNS: dict[str, str] = {
    "row_kind": "string",  # "study" (one per study) or "finding"
    "study_instance_uid": "string",
    "patient_id": "string",
    "study_date": "string",
    "series_instance_uid": "string",
    "series_number": "int32",
    "modality": "string",
    "model_id": "string",
    "model_version": "string",
    "finding_id": "string",
    "finding_type": "string",
    "finding_code": "string",
    "size_mm": "float64",
    "location": "string",
    "confidence": "float64",
    "review_status": "string",
    "findings": "int32",  # study rows: how many findings the study has
    "run_outcomes": "string",  # study rows: each model run in one line ("ct-nodule 1.2: findings")
    "status": "string",  # study rows: "done" or "failed"
    "reason": "string",  # study rows of failed studies: why
    "seconds": "float64",  # study rows: the task's wall time
    "worker": "string",  # study rows: the Dask worker that ran it
}


def study_row(study_uid: str, patient_id: str = "", study_date: str = "", **values) -> dict:
    """A study's summary row (a failed study has status "failed" and the reason)."""
    row = {name: None for name in COLUMNS}
    row.update(row_kind="study", study_instance_uid=study_uid, patient_id=patient_id, study_date=study_date,
               status="done")
    row.update(values)
    return row


def study_rows(review: Review, study_uid: str, patient_id: str, study_date: str,
               series_numbers: dict[str, tuple[int | None, str]]) -> list[dict]:
    """A row per finding of `review` (the reader's edit where there is one) and the study's row.

    series_numbers: SeriesInstanceUID -> (SeriesNumber, Modality)."""
    rows = []
    for item in review.findings():
        finding = item.current
        number, modality = series_numbers.get(finding.series_instance_uid, (None, ""))
        location = ", ".join(f"{k}: {v}" for k, v in sorted(finding.location.items()))
        rows.append({**{name: None for name in COLUMNS},
                     "row_kind": "finding", "study_instance_uid": study_uid, "patient_id": patient_id,
                     "study_date": study_date, "series_instance_uid": finding.series_instance_uid,
                     "series_number": number, "modality": modality, "model_id": finding.model_id,
                     "model_version": finding.model_version, "finding_id": finding.id,
                     "finding_type": finding.finding_type.meaning, "finding_code": finding.finding_type.value,
                     "size_mm": round(finding.size_mm, 2) if finding.size_mm else None, "location": location,
                     "confidence": round(float(finding.confidence), 4), "review_status": item.status.value})
    runs = "; ".join(f"{r.model_id} {r.model_version} on {r.series_label}: {r.outcome.value}"
                     for r in review.model_runs.values())
    unreviewed = sum(item.status is ReviewStatus.UNREVIEWED for item in review.findings())
    rows.append(study_row(study_uid, patient_id, study_date, findings=len(rows), run_outcomes=runs,
                          review_status=(f"{unreviewed} unreviewed" if unreviewed else "reviewed" if rows else "no findings")))
    return rows


def write_table(rows: list[dict], path: Path) -> Path:
    """Write the rows as one Parquet file (atomically: a reader never sees half a table)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in COLUMNS.items()])
    table = pa.Table.from_pylist([{name: row.get(name) for name in COLUMNS} for row in rows], schema=schema)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial)
    partial.replace(path)
    return path


def read_table(path: Path) -> list[dict]:
    """The table's rows as dicts (for tests and the summary)."""
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()
