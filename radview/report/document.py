"""The report as one HTML document: institution, patient block, sections, key images, status.

Plain strings (no Qt) so the window's editor, the draft file and the PDF show the same text.
Key images are referenced as `keyimage://<n>`; the PDF writer supplies the pictures.
"""

from __future__ import annotations

from html import escape

from radview.core.report import HEADER_FIELDS, PRELIMINARY_NOTICE, SECTION_TITLES, Report
from radview.report.key_images import KeyImage

KEY_IMAGE_WIDTH_PX = 210  # two side by side fit an A4 or Letter text width


def key_image_url(n: int) -> str:
    return f"keyimage://{n}"


def report_html(report: Report, key_images: list[KeyImage] = (), institution: str = "") -> str:
    """The whole report as HTML: headings, a patient table, sections in order, key images with
    captions, and the status line (preliminary notice, or who signed and when)."""
    rows = "".join(f"<tr><td><b>{escape(label)}</b></td><td>{escape(report.header.get(key, '') or '—')}</td></tr>"
                   for key, label in HEADER_FIELDS.items())
    parts = [
        f"<h2>{escape(institution)}</h2>" if institution else "",
        f"<h1>Radiology report{' (preliminary)' if not report.signed else ''}</h1>",
        f"<p><b>{escape(report.status)}</b> — version {report.version}</p>",
        f"<table cellspacing='0' cellpadding='3'>{rows}</table>",
    ]
    for name, title in SECTION_TITLES.items():
        if name in report.sections:
            parts.append(f"<h3>{escape(title)}</h3>{report.sections[name].html}")
    if key_images:
        parts.append("<h3>Key images</h3><table cellspacing='6'>")
        for n, image in enumerate(key_images):
            height = round(KEY_IMAGE_WIDTH_PX * image.rgb.shape[0] / image.rgb.shape[1] * image.aspect_mm)
            cell = (f"<td><img src='{key_image_url(n)}' width='{KEY_IMAGE_WIDTH_PX}' height='{height}'><br>"
                    f"<small>{escape(image.caption)}</small></td>")
            parts.append(("<tr>" if n % 2 == 0 else "") + cell + ("</tr>" if n % 2 == 1 else ""))
        parts.append("</tr></table>" if len(key_images) % 2 else "</table>")
    if not report.signed:
        parts.append(f"<p><b>{escape(PRELIMINARY_NOTICE)}</b></p>")
    return "<html><body>" + "".join(parts) + "</body></html>"
