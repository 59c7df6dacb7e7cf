"""Write the report as PDF through Qt's own text engine (QTextDocument + QPdfWriter).

The one module outside radview.gui that imports Qt (QtGui only, no widgets; docs/architecture.md), so the
PDF is laid out exactly like the editor's document. The command line needs a QGuiApplication:
`ensure_gui_application()` makes an offscreen one when there is none.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from radview.core.report import PRELIMINARY_NOTICE, Report
from radview.report.document import key_image_url, report_html
from radview.report.key_images import KeyImage

if TYPE_CHECKING:  # Qt is imported where it is used: importing this module must not load it
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QPainter, QTextBlock, QTextDocument, QTextLine

PAGE_SIZES = ("A4", "Letter")
MARGIN_MM = 18
FOOTER_MM = 10
RESOLUTION_DPI = 300


def ensure_gui_application():
    """The running Q(Gui)Application, or a new offscreen QGuiApplication (command line)."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication(["radview"])
    return app


def write_pdf(report: Report, path: Path, key_images: list[KeyImage] = (), institution: str = "",
              page_size: str = "A4") -> int:
    """Write the PDF atomically (temp file, then rename); returns the number of pages.

    Every page carries the footer: the preliminary notice (or the signature) and "page n of N".
    """
    from PySide6.QtCore import QMarginsF, QRectF, QSizeF, QUrl
    from PySide6.QtGui import QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

    ensure_gui_application()
    if page_size not in PAGE_SIZES:
        raise ValueError(f"page size {page_size!r}: use one of {', '.join(PAGE_SIZES)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a unique temporary name: two exports into one folder must not write the same file
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    writer = QPdfWriter(str(tmp))
    writer.setResolution(RESOLUTION_DPI)
    writer.setTitle(f"Radiology report — {report.header.get('patient_name', '')}")
    writer.setCreator("RadView")
    size = QPageSize(QPageSize.PageSizeId.A4 if page_size == "A4" else QPageSize.PageSizeId.Letter)
    writer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
                                     QPageLayout.Unit.Millimeter))
    page = writer.pageLayout().paintRectPixels(RESOLUTION_DPI)
    footer_px = FOOTER_MM / 25.4 * RESOLUTION_DPI

    document = QTextDocument()
    font = QFont("DejaVu Sans")
    font.setPointSizeF(10)
    document.setDefaultFont(font)
    for n, image in enumerate(key_images):
        rgb = image.rgb.copy(order="C")
        qimage = QImage(rgb.data, rgb.shape[1], rgb.shape[0], 3 * rgb.shape[1], QImage.Format.Format_RGB888).copy()
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(key_image_url(n)), qimage)
    document.setHtml(report_html(report, key_images, institution))
    # lay the text out in points on the page's content area; the painter scales points to pixels
    scale = RESOLUTION_DPI / 72.0
    content = QSizeF(page.width() / scale, (page.height() - footer_px) / scale)
    document.setPageSize(content)
    pages = max(1, document.pageCount())
    footer = PRELIMINARY_NOTICE if not report.signed else report.status

    painter = QPainter(writer)
    try:
        for index in range(pages):
            if index:
                writer.newPage()
            painter.save()
            painter.scale(scale, scale)
            _draw_page(painter, document, QRectF(0, index * content.height(), content.width(), content.height()))
            painter.restore()
            _draw_footer(painter, QRectF(0, page.height() - footer_px * 0.8, page.width(), footer_px * 0.8),
                         footer, f"page {index + 1} of {pages}")
    finally:
        painter.end()
    os.replace(tmp, path)
    return pages


def _draw_page(painter: QPainter, document: QTextDocument, view: QRectF) -> None:
    """Draw the part of the paginated `document` in `view` (document coordinates, one page) at
    the painter's origin.

    Why not just drawContents(view): Qt's QTextLayout::draw starts at the last line *above* its
    clip rect, so a paragraph continued from the previous page also paints that page's last line
    above this page's body. The clip hides it on paper, but its text stays in the PDF (pdftotext,
    search, copy and screen readers get it twice). So the continued paragraphs are hidden from
    Qt's pass and their lines on this page drawn one by one here.
    """
    from PySide6.QtGui import QAbstractTextDocumentLayout, QPalette

    continued = _continued_blocks(document, view)
    painter.save()
    painter.translate(0, -view.top())
    for block, _origin, _lines in continued:
        block.setVisible(False)  # only read at draw time: the layout is not redone
    try:
        document.drawContents(painter, view)
    finally:
        for block, _origin, _lines in continued:
            block.setVisible(True)
    painter.setClipRect(view)
    context = QAbstractTextDocumentLayout.PaintContext()  # drawContents' default: its text colour
    painter.setPen(context.palette.color(QPalette.ColorRole.Text))
    for _block, origin, lines in continued:
        for line in lines:
            line.draw(painter, origin)
    painter.restore()


def _continued_blocks(document: QTextDocument, view: QRectF) -> list[tuple[QTextBlock, QPointF, list[QTextLine]]]:
    """(block, its layout's origin, its lines in `view`) for each block that began on an earlier
    page and goes on into `view`; table cells' blocks included."""
    layout = document.documentLayout()
    found = []
    block = document.begin()
    while block.isValid():
        origin = layout.blockBoundingRect(block).topLeft()  # QTextLine positions are relative to it
        lines = [block.layout().lineAt(n) for n in range(block.layout().lineCount())]
        inside = [line for line in lines if origin.y() + line.y() < view.bottom()
                  and origin.y() + line.y() + line.height() > view.top()]
        if inside and origin.y() + lines[0].y() < view.top():
            found.append((block, origin, inside))
        block = block.next()
    return found


def _draw_footer(painter: QPainter, rect: QRectF, notice: str, page_label: str) -> None:
    """The footer line in `rect` (device pixels): the status on the left, "page n of N" on the right."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFont

    painter.save()
    footer_font = QFont("DejaVu Sans")
    footer_font.setPointSizeF(8)
    painter.setFont(footer_font)
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), notice)
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), page_label)
    painter.restore()
