"""Reading PDFs the portal makes, as a person would: the pages, each page's text, and the
barcodes and QR codes on a page rendered at 300 dpi (pypdfium2 renders, zxing-cpp decodes)."""

import pypdfium2 as pdfium
import zxingcpp


def pages(data):
    return len(pdfium.PdfDocument(bytes(data)))


def text(data, page=0):
    return pdfium.PdfDocument(bytes(data))[page].get_textpage().get_text_range()


def all_text(data):
    document = pdfium.PdfDocument(bytes(data))
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def codes(data, page=0, dpi=300):
    """{format name: [decoded texts]} of the codes on the page."""
    image = pdfium.PdfDocument(bytes(data))[page].render(scale=dpi / 72).to_pil()
    found = {}
    for result in zxingcpp.read_barcodes(image):
        found.setdefault(result.format.name, []).append(result.text)
    return found


def page_size(data, page=0):
    """(width, height) in points."""
    return tuple(round(v) for v in pdfium.PdfDocument(bytes(data))[page].get_size())
