"""The email templates render from a return alone (portal.mail.render), HTML and plain text; the
worker sending them through SMTP is tests/workers/test_shopper_emails.py."""

from markupsafe import escape

from portal import mail
from portal.db import db
from portal.models import Order, Return
from portal.returns.requests import request_return
from tests import factories

TEMPLATES = [
    "return_requested",
    "staff_new_return",
    "return_approved",
    "return_rejected",
    "return_cancelled",
    "guest_link",
    "staff_message",
]


def test_every_template_renders_html_and_text(app, make):
    """The templates other parts of the portal send too (approved, rejected) render from the
    return alone, with their context optional."""
    with app.app_context(), db.connection_context():
        reasons = factories.reasons()
        user, order, lines = factories.shop()
        rma = request_return(order, user, user.email,
                             [(lines["TEE-M"].id, 1, reasons["changed_mind"].id)])  # fmt: skip
        Return.update(rejection_reason="Worn and washed.").where(Return.id == rma.id).execute()
        rma = Return.get_by_id(rma.id)
        context = {
            "link": "http://x/guest/t",
            "order_number": "R-1001",
            "valid_for": "24 hours",
            "topic": "About your parcel",
            "message": "It arrived.",
        }
        for name in TEMPLATES:
            subject, text, html = mail.render(name, rma=rma, **context)
            assert subject and "\n" not in subject, name
            assert text.strip() and "<html" in html and str(escape(subject)) in html, name
        subject, text, _ = mail.render("return_rejected", rma=rma)
        assert subject == f"We couldn't accept your return {rma.reference}"
        assert "Why: Worn and washed." in text
        _, text, _ = mail.render("return_rejected", rma=rma, rejection_reason="Too late.")
        assert "Why: Too late." in text
        _, text, _ = mail.render("return_cancelled", rma=rma, reason="You phoned us.")
        assert "Why: You phoned us." in text
        _, text, _ = mail.render("return_approved", rma=rma)
        assert "1 Warehouse Road" in text  # the store's address when none is passed
        assert Order.get(Order.number == "R-1001").version == 2
