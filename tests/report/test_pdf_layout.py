"""The report PDF page by page: every line of the report once (none drawn twice at a page
break), and "page n of N" in every page's footer."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from html import escape
from pathlib import Path

import pytest

from radview.core.report import PRELIMINARY_NOTICE, Report, ReportSection
from radview.report.pdf import write_pdf

# Each list is one paragraph with a line break per line: more lines than a page holds, so the
# paragraph is cut by a page break (where Qt used to paint a line twice). Some lines repeat on
# purpose: they must come back as often as they were written, not more.
TECHNIQUE = [f"Technique line {n}: axial CT of the chest, 1 mm slices, lung kernel." for n in range(1, 81)]
IMPRESSION = [f"Impression line {n}: see the findings above." for n in range(1, 31)] + ["No change since the prior study."] * 3
AI = [f"AI line {n}: suggestion for a radiologist to verify." for n in range(1, 21)]
# One paragraph of numbered words that Qt wraps itself, longer than a page as well.
WORDS = [f"w{n:04d}" for n in range(1, 1201)]


def _paragraph(lines: list[str]) -> str:
    return "<p>" + "<br>".join(escape(line) for line in lines) + "</p>"


def _long_report(signed: bool) -> Report:
    html = {"technique": _paragraph(TECHNIQUE), "findings": f"<p>{' '.join(WORDS)}</p>",
            "impression": _paragraph(IMPRESSION), "ai": _paragraph(AI)}
    report = Report("1.2.826.0.1.3680043.2.1125.1", header={"patient_name": "Roe^Jane", "reader": "Dr Test"},
                    sections={name: ReportSection(name, text, text) for name, text in html.items()})
    if signed:
        report.sign("Dr Jane Roe", "2026-11-22T10:00:00Z")
    return report


def _pdf_pages(path: Path) -> list[str]:
    """The PDF's text page by page (pdftotext -layout: one printed line per text line)."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed: packaging/debian-packages.sh installs it")
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    # NFKC turns the PDF's ligatures (U+FB01 for "fi") back into letters
    pages = unicodedata.normalize("NFKC", done.stdout).split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def _page_count(path: Path) -> int:
    done = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)$", done.stdout, re.MULTILINE).group(1))


@pytest.fixture(scope="module", params=[False, True], ids=["preliminary", "signed"])
def written(request, tmp_path_factory) -> tuple[Report, int, list[str], Path]:
    """A long report written once per signing state: (report, pages written, text by page, path)."""
    report = _long_report(request.param)
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    pages = write_pdf(report, path)
    return report, pages, _pdf_pages(path), path


def test_every_line_of_the_report_is_in_the_pdf_as_often_as_written(written):
    _report, pages, text, _path = written
    assert pages >= 3, "the report must run over several page breaks"
    printed = Counter(line.strip() for page in text for line in page.splitlines())
    written_lines = Counter(TECHNIQUE + IMPRESSION + AI)
    wrong = {line: printed[line] for line, count in written_lines.items() if printed[line] != count}
    assert not wrong, f"lines printed a wrong number of times: {wrong}"
    words = Counter(re.findall(r"\bw\d{4}\b", "\n".join(text)))
    assert words == Counter(WORDS), {w: n for w, n in words.items() if n != 1}


def test_each_page_has_its_footer(written):
    report, pages, text, path = written
    assert len(text) == pages == _page_count(path)
    notice = PRELIMINARY_NOTICE if not report.signed else report.status
    for number, page in enumerate(text, start=1):
        footers = [line.strip() for line in page.splitlines() if re.search(r"\bpage \d+ of \d+\b", line)]
        assert len(footers) == 1, (number, footers)
        assert re.fullmatch(rf"{re.escape(notice)}\s+page {number} of {pages}", footers[0]), (number, footers[0])
