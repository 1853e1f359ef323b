"""An order line's picture in the import (docs/import-format.md): a web address or nothing."""

import pytest

from portal.importer import RecordError, parse_order


def test_an_order_lines_picture_must_be_a_web_address():
    def record(url):
        return {"number": "P-1", "email": "p@example.com", "currency": "USD",
                "placed_at": "2026-01-01T00:00:00Z",
                "lines": [{"sku": "A", "title": "A", "quantity": 1, "unit_price": 100,
                           "image_url": url}],
                "payments": [{"method": "card", "reference": "ch", "amount": 100}]}  # fmt: skip

    assert parse_order(record(" https://cdn.example.com/a.jpg "))["lines"][0]["image_url"] == (
        "https://cdn.example.com/a.jpg"
    )
    for bad in ("javascript:alert(1)", "/local.jpg", "https://x/" + "a" * 300):
        with pytest.raises(RecordError, match="image_url"):
            parse_order(record(bad))
