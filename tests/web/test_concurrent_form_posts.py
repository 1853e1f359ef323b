"""The staff race of tests/domain/test_merchant_concurrency.py through the web: two signed-in
staff members submit the receive form they both loaded, at the same moment."""

import threading

from portal.returns import review
from tests import factories, pages
from tests.pages import login


def test_two_staff_posting_the_receive_form_at_once(app, store):
    """The same race through the web: two signed-in staff submit the page they both loaded."""
    with app.app_context():
        rma = factories.create_return(store.order, reason=store.changed_mind,
                                      lines=[(store.order.lines.get(), 3, None)])  # fmt: skip
        review.approve(rma, store.manager)
        rma = factories.fresh(rma)
    clients = [app.test_client(), app.test_client()]
    login(clients[0], store.agent.email)
    login(clients[1], store.manager.email)
    data = pages.form_data(rma.reference, "receive", pages.receive_fields(rma, 3))
    url = f"/merchant/returns/{rma.reference}/receive"
    barrier = threading.Barrier(2)
    statuses = []

    def post(client):
        barrier.wait(timeout=60)
        statuses.append(client.post(url, data=data).status_code)

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [303, 422]
    assert factories.line_of(rma).received_quantity == 3
