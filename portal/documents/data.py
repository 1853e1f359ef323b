"""What the documents are made from: plain values, importable without reportlab (a web process
imports these with the pages; reportlab, ~15 MB, only when a document is drawn)."""

from dataclasses import dataclass, field

# reportlab's A4 and 4 x 6 inches, in points (tests/unit/test_documents_lazy.py checks them)
LABEL_SIZES = {"a4": (595.2755905511812, 841.8897637795277), "4x6": (288.0, 432.0)}


@dataclass(frozen=True)
class LabelData:
    reference: str
    carrier: str
    tracking_number: str
    sender: list  # address lines
    recipient: list  # address lines (the store's return address)
    lines: list = field(default_factory=list)  # [(sku, title, quantity)]
    method: str = ""  # the shipping method's name


@dataclass(frozen=True)
class Section:
    heading: str
    header: tuple = ()  # column titles of a table (empty: `rows` are paragraphs)
    rows: list = field(default_factory=list)  # tuples of cells, or strings for paragraphs
    numeric: tuple = ()  # indexes of right-aligned columns
    total: tuple = ()  # a last, bold row


@dataclass(frozen=True)
class Sheet:
    title: str
    reference: str
    facts: list  # [(label, value)]
    sections: list  # [Section]
    footer: str = ""
    none_text: str = "None."  # an empty section (in the document's language)
    page_text: str = "page"
