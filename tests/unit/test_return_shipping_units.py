"""Pure parts of getting the parcel back (issue 14): the return shipping row of the refund
calculation, the carrier update signatures, the label PDF (one page, A4 and 4x6, its QR code
and barcode decode to the reference), the staff sheets, and the calendar's ICS text."""

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.carriers.signing import BadSignature, sign, verify
from portal.documents import LabelData, Sheet, label_pdf, qr_svg, sheet_pdf
from portal.documents.sheets import Section
from portal.returns.exports import _escape, _fold
from portal.returns.refund_calc import RefundLine, RefundTerms, calculate_refund
from tests import pdfs

# --- the return shipping row ------------------------------------------------------------------


def _lines(*faults):
    return [RefundLine(quantity=1, unit_price=2000, unit_tax=0, merchant_fault=f) for f in faults]


@pytest.mark.parametrize(
    "faults, free, charged",
    [
        ((False,), True, 495),  # shopper's choice: the method's price
        ((True,), True, 0),  # the store's fault and the method is free for it
        ((True,), False, 495),  # the store's fault, but this method is charged for every reason
        ((False, True), True, 0),  # any merchant-fault line makes a free method free
        ((False, True), False, 495),
    ],
)
def test_return_shipping_is_the_methods_price_unless_free_for_the_stores_fault(faults, free,
                                                                               charged):  # fmt: skip
    terms = RefundTerms(restocking_fee_bps=0, return_shipping_fee=495,
                        return_shipping_free_merchant_fault=free)  # fmt: skip
    result = calculate_refund(_lines(*faults), terms)
    assert result.return_shipping == charged
    assert result.total == 2000 * len(faults) - charged + result.shipping


@given(
    price=st.integers(0, 100_000),
    free=st.booleans(),
    faults=st.lists(st.booleans(), min_size=1, max_size=5),
    unit=st.integers(0, 50_000),
)
def test_the_row_never_takes_more_than_the_lines_and_follows_the_rule(price, free, faults, unit):
    lines = [RefundLine(quantity=1, unit_price=unit, unit_tax=0, merchant_fault=f) for f in faults]
    terms = RefundTerms(restocking_fee_bps=0, return_shipping_fee=price,
                        return_shipping_free_merchant_fault=free)  # fmt: skip
    result = calculate_refund(lines, terms)
    line_total = unit * len(faults)
    expected = 0 if (any(faults) and free) or line_total == 0 else min(price, line_total)
    assert result.return_shipping == expected
    assert result.total >= 0


# --- signatures ---------------------------------------------------------------------------------

SECRET = "whsec_" + base64.b64encode(b"carrier-test-secret").decode()
BODY = b'{"tracking_number": "RP1", "status": "in_transit"}'


def _headers(secret=SECRET, event_id="evt_1", timestamp=1_000_000, body=BODY):
    return {"webhook-id": event_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, event_id, timestamp, body)}  # fmt: skip


def test_a_signed_update_is_accepted():
    assert verify(SECRET, _headers(), BODY, at=1_000_010) == "evt_1"
    rotated = _headers()
    rotated["webhook-signature"] = "v1,b2xkLXNpZw== " + rotated["webhook-signature"]
    assert verify(SECRET, rotated, BODY, at=1_000_010) == "evt_1"


@pytest.mark.parametrize(
    "headers, body, at, why",
    [
        ({}, BODY, 1_000_000, "not signed"),
        (_headers(), BODY + b" ", 1_000_000, "does not match"),  # the body changed
        (_headers(secret="whsec_" + base64.b64encode(b"other").decode()), BODY, 1_000_000,
         "does not match"),
        (_headers(), BODY, 1_000_000 + 301, "too old"),  # a replay long after
        (_headers(), BODY, 1_000_000 - 301, "in the future"),
        ({**_headers(), "webhook-timestamp": "soon"}, BODY, 1_000_000, "not a number"),
        ({**_headers(), "webhook-id": "evt_2"}, BODY, 1_000_000, "does not match"),
    ],
)  # fmt: skip
def test_bad_signatures_are_refused_with_the_reason(headers, body, at, why):
    with pytest.raises(BadSignature, match=why):
        verify(SECRET, headers, body, tolerance=300, at=at)


def test_without_a_secret_nothing_is_accepted():
    with pytest.raises(BadSignature, match="no CARRIER_WEBHOOK_SECRET"):
        verify("", _headers(), BODY, at=1_000_000)


# --- the label ----------------------------------------------------------------------------------

TWENTY = [(f"SKU-{i:02d}", f"Item number {i} with a fairly long title", 1 + i % 3)
          for i in range(20)]  # fmt: skip


def _label(lines=TWENTY):
    return LabelData(reference="RMA-2026-00042", carrier="Store post",
                     tracking_number="RP00000000000042",
                     sender=["Sam Shopper", "12 Elm Street", "62701 Springfield", "US"],
                     recipient=["Returns Department", "1 Warehouse Road", "Springfield"],
                     lines=lines, method="Prepaid label")  # fmt: skip


@pytest.mark.parametrize("size, points", [("a4", (595, 842)), ("4x6", (288, 432))])
def test_the_label_is_one_page_with_the_reference_its_qr_code_and_barcode(size, points):
    data = label_pdf(_label(), size)
    assert pdfs.pages(data) == 1 and pdfs.page_size(data) == points
    text = pdfs.text(data)
    for expected in ("RMA-2026-00042", "RP00000000000042", "Returns Department", "Sam Shopper",
                     "SKU-00"):  # fmt: skip
        assert expected in text
    codes = pdfs.codes(data)
    assert codes["QRCode"] == ["RMA-2026-00042"]
    assert codes["Code128"] == ["RMA-2026-00042"]
    # 20 lines: what doesn't fit is counted, never drawn off the page.
    shown = len(re.findall(r"SKU-\d\d", text))
    assert shown == 20 or f"and {20 - shown} more line(s)" in text


def test_the_qr_code_on_the_page_is_an_svg_of_the_reference():
    svg = qr_svg("RMA-2026-00042")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<script" not in svg


def test_an_unknown_label_size_is_refused():
    with pytest.raises(ValueError, match="unknown label size"):
        label_pdf(_label(), "letter")


# --- the staff sheets ---------------------------------------------------------------------------


def test_a_sheet_of_twenty_lines_prints_whole_with_the_header_on_each_page():
    rows = [(sku, title, str(q)) for sku, title, q in TWENTY] * 3  # 60 rows: several pages
    sheet = Sheet("Return report", "RMA-2026-00042", [("Order", "#100123")],
                  [Section("Lines", ("SKU", "Item", "Units"), rows, numeric=(2,))])  # fmt: skip
    data = sheet_pdf(sheet)
    assert pdfs.pages(data) >= 2
    everything = pdfs.all_text(data)
    assert all(sku in everything for sku, *_ in TWENTY)
    assert pdfs.text(data, 1).count("SKU") >= 2  # the header again on page 2, with the rows
    assert pdfs.codes(data)["Code128"] == ["RMA-2026-00042"]


# --- the calendar's text --------------------------------------------------------------------------


def test_ics_text_is_escaped_and_folded_at_75_octets():
    assert _escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "DESCRIPTION:" + "é" * 80
    folded = _fold(line)
    assert folded.endswith("\r\n")
    parts = folded[:-2].split("\r\n ")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert "".join(parts) == line
