"""PDF documents, rendered from plain values (no models, no domain, no Flask): the return label
(labels.py), and the packing slip, return report and credit note staff print (sheets.py).

reportlab draws them: Code 128 barcodes and QR codes as vectors (a raster barcode scaled into a
PDF often fails to scan), the 14 standard PDF fonts (WinAnsi: € and accented Latin letters
without shipping a font), no native libraries."""

from portal.documents.labels import LABEL_SIZES, LabelData, label_pdf, qr_svg
from portal.documents.sheets import Sheet, sheet_pdf

__all__ = ["LABEL_SIZES", "LabelData", "Sheet", "label_pdf", "qr_svg", "sheet_pdf"]
