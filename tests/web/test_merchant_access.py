"""The merchant side is staff only, checked on the server for every request."""

import pytest

from tests.pages import login


@pytest.mark.parametrize("role", ["agent", "manager", "admin"])
def test_staff_see_the_returns_queue(app, client, make, role):
    with app.app_context():
        make.staff(role, email=f"{role}@example.com")
    login(client, f"{role}@example.com")
    response = client.get("/merchant/returns")
    assert response.status_code == 200
    assert "Returns queue" in response.get_data(as_text=True)


def test_shopper_is_forbidden(app, client, make):
    with app.app_context():
        make.user("sam@example.com")
    login(client, "sam@example.com")
    response = client.get("/merchant/returns")
    assert response.status_code == 403
    assert "Returns queue" not in response.get_data(as_text=True)


def test_anonymous_is_sent_to_login(client):
    response = client.get("/merchant/returns")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/merchant/returns"


def test_demoted_staff_lose_access_on_the_next_request(app, client, make):
    with app.app_context():
        agent = make.staff("agent", email="agent@example.com")
    login(client, "agent@example.com")
    assert client.get("/merchant/returns").status_code == 200
    with app.app_context():
        agent.role = "shopper"
        agent.save()
    assert client.get("/merchant/returns").status_code == 403


def test_staff_have_no_shopper_orders_of_others(app, client, make):
    with app.app_context():
        sam = make.user("sam@example.com")
        make.order(customer=sam, number="SAM-1")
        make.staff("admin", email="admin@example.com")
    login(client, "admin@example.com")
    # The shopper pages are scoped to the signed-in account, whoever it is.
    assert client.get("/orders/SAM-1").status_code == 404
