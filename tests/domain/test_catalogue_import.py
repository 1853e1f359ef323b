"""Catalogue records in the import (docs/import-format.md): products with their variants and
stock, updated in place when imported again; order lines link to their variant."""

import json

from portal.importer import import_lines
from portal.models import OrderLine, Product, StockLevel, StockMovement, Variant

TEE = {
    "type": "product", "code": "TEE", "title": "Classic tee", "image_url": "https://img/tee.jpg",
    "variants": [
        {"sku": "TEE-M", "title": "M / White", "options": {"size": "M", "colour": "White"},
         "price": 2500, "tax": 500, "stock": {"MAIN": 7}},
        {"sku": "TEE-L", "options": {"size": "L", "colour": "White"}, "price": 2500, "tax": 500},
    ],
}  # fmt: skip


def order(number, lines):
    total = sum(ln["quantity"] * ln["unit_price"] for ln in lines)
    return {"number": number, "email": "sam@example.com", "currency": "USD",
            "placed_at": "2026-11-01T10:00:00Z", "lines": lines,
            "payments": [{"method": "card", "reference": f"ch_{number}", "amount": total}]}  # fmt: skip


def run(*records):
    return import_lines(json.dumps(r) for r in records)


def test_products_variants_and_stock_come_in_and_orders_link_to_them(ctx, make):
    make.location("MAIN")
    report = run(TEE, order("A1", [
        {"sku": "TEE-M", "title": "Tee", "quantity": 1, "unit_price": 2500},
        {"sku": "BUNDLE-TEE", "title": "Tee in a set", "quantity": 1, "unit_price": 2000,
         "variant_sku": "TEE-L"},
        {"sku": "MUG", "title": "Mug", "quantity": 1, "unit_price": 900},
    ]))  # fmt: skip
    assert (report.products, report.imported, report.errors) == (1, 1, [])
    product = Product.get(Product.code == "TEE")
    assert (product.title, product.image_url, product.active) == ("Classic tee",
                                                                  "https://img/tee.jpg", True)  # fmt: skip
    variants = {v.sku: v for v in Variant.select()}
    assert variants["TEE-L"].title == "L / White"  # from the options when not given
    assert variants["TEE-M"].options == {"size": "M", "colour": "White"}
    assert StockLevel.get(StockLevel.sku == "TEE-M").quantity == 7
    links = {ln.sku: ln.product_variant_id for ln in OrderLine.select()}
    assert links == {"TEE-M": variants["TEE-M"].id, "BUNDLE-TEE": variants["TEE-L"].id,
                     "MUG": None}  # fmt: skip


def test_importing_a_product_again_updates_it_and_its_stock_through_movements(ctx, make):
    make.location("MAIN")
    run(TEE)
    again = json.loads(json.dumps(TEE))
    again["title"] = "Classic cotton tee"
    again["variants"][0]["stock"] = {"MAIN": 3}
    again["variants"][1]["active"] = False
    assert run(again).errors == []
    assert Product.select().count() == 1 and Product.get().title == "Classic cotton tee"
    assert Variant.get(Variant.sku == "TEE-L").active is False
    assert StockLevel.get(StockLevel.sku == "TEE-M").quantity == 3
    moves = [(m.quantity, m.reason) for m in StockMovement.select().order_by(StockMovement.id)]
    assert moves == [(7, "import"), (-4, "import")]


def test_bad_catalogue_records_are_refused_whole(ctx, make):
    make.location("MAIN")
    make.location("QUAR", kind="quarantine")
    other = {"type": "product", "code": "OTHER", "title": "Other",
             "variants": [{"sku": "TEE-M", "price": 100}]}  # fmt: skip
    bad = [
        ({"type": "product", "code": "X", "title": "X", "variants": []}, "'variants' must be"),
        ({"type": "product", "code": "X", "title": "X", "variants": [{"sku": "X1"}]},
         "'price' is missing"),
        ({"type": "product", "code": "X", "title": "X",
          "variants": [{"sku": "X1", "price": 9.5}]}, "whole number of cents"),
        ({"type": "product", "code": "X", "title": "X",
          "variants": [{"sku": "X1", "price": 100, "stock": {"NOWHERE": 1}}]},
         "NOWHERE is not a sellable inventory location"),
        ({"type": "product", "code": "X", "title": "X",
          "variants": [{"sku": "X1", "price": 100, "stock": {"QUAR": 1}}]},
         "QUAR is not a sellable inventory location"),
        ({"type": "product", "code": "X", "title": "X",
          "variants": [{"sku": "X1", "price": 100, "active": "yes"}]}, "must be true or false"),
        ({"type": "catalog", "code": "X"}, "'type' must be"),
        (order("B1", [{"sku": "T", "title": "T", "quantity": 1, "unit_price": 100,
                       "variant_sku": "NOPE"}]), "variant_sku 'NOPE' is not in the catalogue"),
    ]  # fmt: skip
    run(TEE)
    report = run(*[record for record, _ in bad], other)
    assert report.products == 0 and report.imported == 0
    messages = [message for _, message in report.errors]
    for (_, expected), message in zip(bad, messages, strict=False):
        assert expected in message, (expected, message)
    assert "TEE-M already belongs to product TEE" in messages[-1]
    assert Product.select().count() == 1 and Variant.select().count() == 2


def test_the_documented_catalogue_example_imports(ctx, make):
    from pathlib import Path

    make.location("MAIN")
    doc = (Path(__file__).parents[2] / "docs" / "import-format.md").read_text()
    section = doc.split("## Catalogue products", 1)[1]
    example = section.split("```json\n", 1)[1].split("```", 1)[0]
    report = run(json.loads(example))
    assert (report.products, report.errors) == (1, [])
    assert StockLevel.get(StockLevel.sku == "TEE-CLASSIC-L-WHITE").quantity == 4
