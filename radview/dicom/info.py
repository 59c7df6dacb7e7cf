"""`radview info`: the study tree with each stack's geometry and warnings, and skipped files."""

from __future__ import annotations

from radview.core.strict_json import finite
from radview.core.study_index import StudyIndex
from radview.dicom.load import stack_geometry
from radview.dicom.stacks import split_series


def _stack_dict(stack) -> dict:
    images, geometry = stack_geometry(stack)
    first = images[0]
    return {
        "label": stack.label,
        "images": len(images),
        "rows": first.rows,
        "columns": first.columns,
        "pixel_spacing_mm": list(geometry["pixel_spacing_mm"]),
        "pixel_spacing_source": geometry["pixel_spacing_source"],
        "slice_spacing_mm": round(float(geometry["slice_spacing_mm"]), 4),
        "orientation": list(first.orientation) if first.orientation else None,
        "origin_mm": [round(float(v), 3) for v in geometry["origin_mm"]] if "origin_mm" in geometry else None,
        "gantry_tilt_deg": round(float(geometry.get("gantry_tilt_deg", 0.0)), 2),
        "transfer_syntax_uid": first.transfer_syntax_uid,
        "photometric_interpretation": first.photometric_interpretation,
        "warnings": geometry["warnings"],
    }


def index_as_dict(index: StudyIndex) -> dict:
    """The whole index as JSON-ready data (no NaN or infinity: strict parsers read it)."""
    patients = []
    for p in index.patients:
        studies = []
        for st in p.studies:
            series = []
            for se in st.series:
                stacks = []
                for stack in split_series(se):
                    try:
                        stacks.append(_stack_dict(stack))
                    except ValueError as exc:  # e.g. degenerate orientation vectors
                        stacks.append({"label": stack.label, "images": len(stack.images), "error": str(exc)})
                series.append({
                    "series_instance_uid": se.series_instance_uid, "number": se.series_number,
                    "modality": se.modality, "description": se.description, "date": se.date,
                    "images": se.image_count, "stacks": stacks, "warnings": se.warnings,
                })
            studies.append({
                "study_instance_uid": st.study_instance_uid, "date": st.date, "description": st.description,
                "accession_number": st.accession_number, "series": series, "warnings": st.warnings,
            })
        patients.append({"patient_id": p.patient_id, "name": p.name, "birth_date": p.birth_date, "sex": p.sex,
                         "studies": studies})
    return finite({
        "root": index.root,
        "files": index.file_count,
        "patients": patients,
        "skipped": [{"path": s.path, "reason": s.reason} for s in index.skipped],
    })


def describe_index(index: StudyIndex) -> str:
    """The index as indented text for a terminal."""
    data = index_as_dict(index)
    lines = [f"{data['root']}: {data['files']} files, {len(data['skipped'])} skipped"]
    for p in data["patients"]:
        lines.append(f"Patient {p['name'] or '(no name)'}  ID {p['patient_id']}  born {p['birth_date']}  sex {p['sex']}")
        for st in p["studies"]:
            lines.append(f"  Study {st['date']} {st['description']}  accession {st['accession_number']}")
            lines.extend(f"  WARNING: {w}" for w in st["warnings"])
            for se in st["series"]:
                lines.append(f"    Series {se['number']} {se['modality']} {se['description']!r}: {se['images']} images")
                lines.extend(f"    WARNING: {w}" for w in se["warnings"])
                for sk in se["stacks"]:
                    if "error" in sk:
                        lines.append(f"      stack {sk['label']}: {sk['error']}")
                        continue
                    label = f" [{sk['label']}]" if sk["label"] else ""
                    lines.append(
                        f"      {sk['images']} x {sk['rows']}x{sk['columns']}{label}, pixels "
                        f"{sk['pixel_spacing_mm'][0]:.4g} x {sk['pixel_spacing_mm'][1]:.4g} mm, "
                        f"slices {sk['slice_spacing_mm']:.4g} mm"
                        + (f", tilt {sk['gantry_tilt_deg']} deg" if sk["gantry_tilt_deg"] else "")
                    )
                    lines.extend(f"        warning: {w}" for w in sk["warnings"])
    if data["skipped"]:
        lines.append("Skipped files:")
        lines.extend(f"  {s['path']}: {s['reason']}" for s in data["skipped"])
    return "\n".join(lines)
