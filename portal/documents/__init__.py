"""PDF documents, rendered from plain values (no models, no domain, no Flask): the return label
(labels.py), and the packing slip, return report and credit note staff print (sheets.py).

reportlab draws them: Code 128 barcodes and QR codes as vectors (a raster barcode scaled into a
PDF often fails to scan), the 14 standard PDF fonts (WinAnsi: € and accented Latin letters
without shipping a font), no native libraries.

reportlab is imported when a document is first drawn, not with this package: the values
(portal/documents/data.py) are all a page needs until then."""

from portal.documents.data import LABEL_SIZES, LabelData, Section, Sheet

__all__ = ["LABEL_SIZES", "LabelData", "Section", "Sheet", "label_pdf", "qr_svg", "sheet_pdf"]


def label_pdf(data, size="a4"):
    """The return label's PDF bytes (portal/documents/labels.py)."""
    from portal.documents import labels

    return labels.label_pdf(data, size)


def qr_svg(value, size=180):
    """The QR code of `value` as an SVG document (portal/documents/labels.py)."""
    from portal.documents import labels

    return labels.qr_svg(value, size)


def sheet_pdf(sheet):
    """A packing slip's, return report's or credit note's PDF bytes (portal/documents/sheets.py)."""
    from portal.documents import sheets

    return sheets.sheet_pdf(sheet)
