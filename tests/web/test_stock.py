"""The stock page (all staff): levels per SKU and location, a SKU search, and one SKU's
movements with the return each came from."""

import html as htmllib
import re

from portal.models import StockLevel, StockMovement
from portal.returns import inspection, receiving, review
from tests import factories
from tests.pages import login
from tests.querycount import count_queries


def text(response):
    return htmllib.unescape(response.get_data(as_text=True))


def restocked(app, store):
    """A return of the store's 3 tees: received with 1 damaged, 2 restocked into the main
    location and the damaged one quarantined, by the agent."""
    with app.app_context():
        rma = factories.create_return(store.order, reason=store.defective)
        review.approve(rma, store.manager)
        line = factories.line_of(rma)
        receiving.receive(rma, store.agent, {line.id: (3, 1)})
        inspection.inspect(rma, store.agent, {line.id: ("accepted", "")})
        inspection.restock_lines(rma, store.agent, {line.id: (2, 1)}, store.main.id,
                                 store.quarantine.id)  # fmt: skip
    return rma


def test_staff_see_levels_and_search_skus(app, client, store):
    restocked(app, store)
    with app.app_context():
        StockLevel.create(location=store.main, sku="CAP-RED", quantity=4)
    login(client, store.agent.email)
    response = client.get("/merchant/stock")
    assert response.status_code == 200
    html = text(response)
    assert 'href="/merchant/stock/TEE-M"' in html and 'href="/merchant/stock/CAP-RED"' in html
    tee_main = re.search(rf"TEE-M</a></td>\s*<td>{store.main.name}</td>\s*<td>Sellable</td>\s*"
                         r'<td class="num">(\d+)</td>', html)  # fmt: skip
    assert tee_main and tee_main.group(1) == "2"
    assert re.search(rf"<td>{store.quarantine.name}</td>\s*<td>Quarantine</td>\s*"
                     r'<td class="num">1</td>', html)  # fmt: skip

    html = text(client.get("/merchant/stock", query_string={"q": " cap "}))
    assert "CAP-RED" in html and "TEE-M" not in html and 'value="cap"' in html
    html = text(client.get("/merchant/stock", query_string={"q": "tee-m"}))
    assert "TEE-M" in html and "CAP-RED" not in html

    response = client.get("/merchant/stock", query_string={"q": "NOPE%"})
    assert response.status_code == 200
    assert "No SKU matches “NOPE%”." in text(response) and "<table" not in text(response)


def test_an_empty_store_says_so(app, client, store):
    login(client, store.agent.email)
    assert "No stock is recorded yet" in text(client.get("/merchant/stock"))


def test_a_sku_shows_its_levels_and_the_movements_that_made_them(app, client, store):
    rma = restocked(app, store)
    with app.app_context():
        StockMovement.create(location=store.main, sku="TEE-M", quantity=-1, reason="adjustment")
    login(client, store.agent.email)
    response = client.get("/merchant/stock/TEE-M")
    assert response.status_code == 200
    html = text(response)
    levels, moves = html.split('id="moves-title"')
    assert store.main.name in levels and store.quarantine.name in levels
    rows = re.findall(r"<tr>\s*<td[^>]*><time[^>]*>[^<]*</time></td>(.*?)</tr>", moves, re.S)
    assert len(rows) == 3
    cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "|", row)) for row in rows]
    # Newest first: the adjustment (no return, by the system), then the two from the return.
    assert "-1" in cells[0] and "Adjustment" in cells[0] and "None" in cells[0]
    assert "System" in cells[0]
    link = f'<a href="/merchant/returns/{rma.reference}">{rma.reference}</a>'
    assert moves.count(link) == 2
    assert any("+2" in c and "Restock" in c and store.main.name in c for c in cells[1:])
    assert any("+1" in c and "Quarantine" in c and store.quarantine.name in c for c in cells[1:])
    assert moves.count(store.agent.email) == 2


def test_an_unknown_sku_says_so(app, client, store):
    login(client, store.agent.email)
    response = client.get("/merchant/stock/NO-SUCH")
    assert response.status_code == 404
    assert "No stock has been recorded for the SKU “NO-SUCH”." in text(response)


def test_the_stock_pages_run_the_same_queries_for_2_and_12_rows(app, client, store):
    rma = restocked(app, store)
    login(client, store.agent.email)
    line = factories.line_of(rma)
    pages = {}
    for rows in (2, 12):
        with app.app_context():
            while StockLevel.select().count() < rows:
                n = StockLevel.select().count()
                StockLevel.create(location=store.main, sku=f"SKU-{n:02d}", quantity=n)
            while StockMovement.select().where(StockMovement.sku == "TEE-M").count() < rows:
                StockMovement.create(location=store.main, sku="TEE-M", quantity=1,
                                     reason="restock", return_line_id=line.id,
                                     actor=store.manager)  # fmt: skip
        for url in ("/merchant/stock", "/merchant/stock/TEE-M"):
            with count_queries() as queries:
                response = client.get(url)
            assert response.status_code == 200
            pages.setdefault(url, []).append(queries.count)
        html = client.get("/merchant/stock").get_data(as_text=True)
        assert html.count('href="/merchant/stock/') == rows
        html = client.get("/merchant/stock/TEE-M").get_data(as_text=True)
        assert html.count(f'href="/merchant/returns/{rma.reference}"') == rows
    for url, counts in pages.items():
        assert counts[0] == counts[1], (url, counts)
    print(f"stock pages: {pages} queries with 2 and with 12 rows")
