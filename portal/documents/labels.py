"""The return label: one page, A4 or 4x6 in label stock. The reference as text, a Code 128
barcode and a QR code (both encode the reference: the receiving page reads either), the return
address, the sender, and the lines in the parcel (as many as fit; the rest are counted)."""

import io

from reportlab.graphics import renderPDF, renderSVG
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import inch, mm
from reportlab.pdfgen import canvas

from portal.documents.data import LABEL_SIZES, LabelData  # noqa: F401 (their home before)


def _qr_drawing(value, size):
    widget = qr.QrCodeWidget(value, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def qr_svg(value, size=180):
    """The QR code of `value` as an SVG document (the tracking page shows it for drop-offs)."""
    return renderSVG.drawToString(_qr_drawing(value, size))


def _fit(c, text, font, size, width):
    """`text` cut to `width` points in `font`."""
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def label_pdf(data, size="a4"):
    """The label's PDF bytes, on one page of `size` ("a4" or "4x6")."""
    if size not in LABEL_SIZES:
        raise ValueError(f"unknown label size {size!r}")
    width, height = LABEL_SIZES[size]
    small = size == "4x6"
    margin = 6 * mm if small else 15 * mm
    scale = 0.62 if small else 1.0
    inner = width - 2 * margin
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=(width, height), pageCompression=1)
    c.setTitle(f"Return label {data.reference}")
    y = height - margin

    def text(value, font="Helvetica", points=10):
        nonlocal y
        points *= scale if points > 9 else max(scale, 0.8)
        y -= points * 1.3
        c.setFont(font, points)
        c.drawString(margin, y, _fit(c, value, font, points, inner))

    text("RETURN — " + (data.method or "Return parcel"), "Helvetica-Bold", 14)
    text(f"Carrier: {data.carrier}   Tracking: {data.tracking_number}", points=9)
    y -= 4
    text("SHIP TO", "Helvetica-Bold", 9)
    for line in data.recipient:
        text(line, "Helvetica-Bold", 16)
    y -= 6
    text("FROM", "Helvetica-Bold", 9)
    for line in data.sender or ["(sender's address not known)"]:
        text(line, points=11)

    # The reference, its barcode and QR code.
    y -= 10 * scale
    qr_size = (1.5 if small else 2.2) * inch
    bar_height = (0.6 if small else 0.9) * inch
    barcode = code128.Code128(data.reference, barHeight=bar_height, barWidth=1.0 if small else 1.4,
                              humanReadable=False, quiet=True)  # fmt: skip
    y -= bar_height
    barcode.drawOn(c, margin, y)
    y -= 20 * scale
    c.setFont("Helvetica-Bold", 22 * scale)
    c.drawString(margin, y, data.reference)
    y -= qr_size + 6
    renderPDF.draw(_qr_drawing(data.reference, qr_size), c, margin, y)
    c.setFont("Helvetica", 9 * max(scale, 0.8))
    c.drawString(margin + qr_size + 8, y + qr_size / 2,
                 _fit(c, "Scan at the drop-off point or at our warehouse.", "Helvetica", 8,
                      inner - qr_size - 8))  # fmt: skip

    # The lines in the parcel, as many as fit above the bottom margin.
    y -= 6
    text("IN THIS PARCEL", "Helvetica-Bold", 9)
    row = 12 * max(scale, 0.8)
    room = max(int((y - margin - row) // row), 0)
    shown = data.lines if len(data.lines) <= room else data.lines[: max(room - 1, 0)]
    for sku, title, quantity in shown:
        text(f"{quantity} × {sku}  {title}", points=9)
    if len(shown) < len(data.lines):
        rest = data.lines[len(shown) :]
        text(f"and {len(rest)} more line(s), {sum(q for *_, q in rest)} unit(s)", points=9)
    c.showPage()
    c.save()
    return buffer.getvalue()
