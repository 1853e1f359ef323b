"""The documents staff print (packing slip, return report, credit note): an A4 sheet with a
title, the reference as a Code 128 barcode, facts, and sections of tables or text. Tables flow
onto further pages with their header repeated, so a return of any size prints whole."""

import io
from xml.sax.saxutils import escape

from reportlab.graphics.barcode import code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from portal.documents.data import Section, Sheet  # noqa: F401 (their home before)

STYLES = getSampleStyleSheet()


class _Barcode(Flowable):
    def __init__(self, value):
        super().__init__()
        self.code = code128.Code128(value, barHeight=12 * mm, barWidth=1.1, humanReadable=True)
        self.width, self.height = self.code.width, self.code.height + 4 * mm

    def draw(self):
        self.code.drawOn(self.canv, 0, 4 * mm)


def _cell(value):
    return Paragraph(escape(str(value)), STYLES["BodyText"])


def _table(section):
    data = [[Paragraph(f"<b>{escape(h)}</b>", STYLES["BodyText"]) for h in section.header]]
    data += [[_cell(v) for v in row] for row in section.rows]
    if section.total:
        data.append([Paragraph(f"<b>{escape(str(v))}</b>", STYLES["BodyText"])
                     for v in section.total])  # fmt: skip
    style = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for index in section.numeric:
        for row in data:
            row[index].style = STYLES["BodyText"].clone("num", alignment=2)
    return Table(data, repeatRows=1, hAlign="LEFT", style=TableStyle(style))


def sheet_pdf(sheet):
    """The sheet's PDF bytes (A4, as many pages as its tables need)."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm,
                            title=f"{sheet.title} {sheet.reference}")  # fmt: skip
    story = [Paragraph(escape(f"{sheet.title} — {sheet.reference}"), STYLES["Title"]),
             _Barcode(sheet.reference), Spacer(1, 3 * mm)]  # fmt: skip
    if sheet.facts:
        facts = [[Paragraph(f"<b>{escape(k)}</b>", STYLES["BodyText"]), _cell(v)]
                 for k, v in sheet.facts]  # fmt: skip
        story.append(Table(facts, colWidths=[45 * mm, None], hAlign="LEFT",
                           style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")])))  # fmt: skip
    for section in sheet.sections:
        story.append(Paragraph(escape(section.heading), STYLES["Heading2"]))
        if section.header:
            story.append(_table(section) if section.rows else _cell(sheet.none_text))
        else:
            story.extend(_cell(row) for row in section.rows or [sheet.none_text])
    if sheet.footer:
        story += [Spacer(1, 6 * mm), Paragraph(escape(sheet.footer), STYLES["Italic"])]

    def number_pages(canvas, document):
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm,
                               f"{sheet.reference} · {sheet.page_text} {document.page}")  # fmt: skip

    doc.build(story, onFirstPage=number_pages, onLaterPages=number_pages)
    return buffer.getvalue()
