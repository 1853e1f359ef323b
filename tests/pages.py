"""Helpers for driving the pages through the test client: signing in, the form posts the
merchant detail page and the shopper's request form make, and reading what a page says."""

import html as htmllib
import re

from portal.models import Return, ReturnLine
from tests.factories import PASSWORD


def login(client, email, password=PASSWORD):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.data[:500]
    return response


def post_login(client, email, password=PASSWORD, **query):
    """The sign-in form posted, whatever the answer."""
    return client.post("/login", data={"email": email, "password": password}, query_string=query)


def signed_in(client):
    """Is the client's session signed in? (flask-login keeps the user id in the session)"""
    with client.session_transaction() as session:
        return "_user_id" in session


# --- the merchant detail page's action forms ----------------------------------------------------


def form_data(rma_reference, prefix, fields=None):
    """POST data for an action form on the detail page, with the return's current version."""
    version = Return.get(Return.reference == rma_reference).version
    data = {f"{prefix}-version": str(version)}
    for key, value in (fields or {}).items():
        data[f"{prefix}-{key}"] = str(value)
    return data


CONFIRM_TOTAL = re.compile(r'name="refund-confirm_total" type="hidden" value="(\d+)"')


def act(client, reference, action, fields=None, htmx=False, prefix=None, confirm=True):
    """Post an action form of the merchant detail page, as the browser would. Issuing a refund
    takes two posts, as a manager's two clicks: "Issue refund" answers with the confirmation
    step, whose "Confirm refund" (the confirmed total posted back) is sent next, unless
    `confirm` is False (the first step's answer is returned)."""
    headers = {"HX-Request": "true"} if htmx else {}
    url = f"/merchant/returns/{reference}/{action}"
    data = form_data(reference, prefix or action, fields)
    response = client.post(url, data=data, headers=headers)
    issuing = (
        action == "refund"
        and (fields or {}).get("submit")
        and "confirm_total" not in (fields or {})
    )
    if confirm and issuing and response.status_code == 200:
        found = CONFIRM_TOTAL.search(response.get_data(as_text=True))
        if found:
            data["refund-confirm_total"] = found.group(1)
            response = client.post(url, data=data, headers=headers)
    return response


def receive_fields(rma, units, damaged=0):
    """{line: units} or one number for a one-line return."""
    lines = list(ReturnLine.select().where(ReturnLine.rma == rma.id).order_by(ReturnLine.id))
    units = units if isinstance(units, dict) else {lines[0].id: units}
    damaged = damaged if isinstance(damaged, dict) else {lines[0].id: damaged}
    fields = {"accept_on_receipt": "y"}
    for i, line in enumerate(lines):
        fields[f"lines-{i}-line_id"] = line.id
        fields[f"lines-{i}-received"] = units.get(line.id, 0)
        fields[f"lines-{i}-damaged"] = damaged.get(line.id, 0)
    return fields


# --- the shopper's return request form ----------------------------------------------------------


def line_indexes(html):
    """{order_line_id: form index} from the request form's hidden inputs."""
    pairs = re.findall(r'name="lines-(\d+)-order_line_id" type="hidden" value="(\d+)"', html)
    return {int(line_id): int(index) for index, line_id in pairs}


def request_data(indexes, picks, step="review", resolution="refund", note=""):
    """Form fields for the request: picks = {order_line_id: (quantity, reason_id, note[,
    replacement variant id])}."""
    data = {"step": step, "resolution": resolution, "shopper_note": note}
    for line_id, index in indexes.items():
        quantity, reason_id, line_note, *swap = picks.get(line_id, (0, "", ""))
        data[f"lines-{index}-order_line_id"] = str(line_id)
        data[f"lines-{index}-quantity"] = str(quantity)
        data[f"lines-{index}-reason"] = str(reason_id)
        data[f"lines-{index}-note"] = line_note
        if swap:
            data[f"lines-{index}-replacement"] = str(swap[0])
    return data


def reviewed_digest(html):
    match = re.search(r'name="reviewed" value="([0-9a-f]+)"', html)
    return match.group(1) if match else None


def errors(html):
    """Every error message on a page (field errors and the summary), as plain text."""
    found = re.findall(r'<p class="error"[^>]*>(.*?)</p>', html, re.S)
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    if summary:
        found += re.findall(r"<li>(.*?)</li>", summary.group(0), re.S)
    return [htmllib.unescape(re.sub(r"\s+", " ", m).strip()) for m in found]


# --- emails the outbox sends (delivered here, written as .eml files under MAIL_DIR) -------------


def deliver_emails(app, kind="account_email"):
    """Deliver the pending outbox messages of `kind` as the worker would, and return every
    email written so far as (to, subject, text body), oldest first."""
    from email import policy
    from email.parser import BytesParser
    from pathlib import Path

    from portal.db import db
    from portal.models import OutboxMessage
    from portal.outbox.delivery import deliver

    with app.app_context(), db.connection_context():
        pending = OutboxMessage.select().where(
            (OutboxMessage.kind == kind) & (OutboxMessage.status == "pending")
        )
        for message in list(pending):
            deliver(message.id, app.config)
    folder = Path(app.config["MAIL_DIR"])
    found = []
    for path in (
        sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) if folder.exists() else []
    ):
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        found.append((msg["To"], msg["Subject"], msg.get_body(("plain",)).get_content()))
    return found


def link_in(text, path):
    """The token of the first link to /<path>/<token> in an email's text."""
    match = re.search(rf"/{path}/([A-Za-z0-9_\-]+)", text)
    assert match, text
    return match.group(1)


def without_csrf(html):
    """A page less its CSRF tokens (new ones each time), to compare two answers."""
    return re.sub(r'(csrf-token" content="|X-CSRFToken&#34;: &#34;|X-CSRFToken": "|'
                  r'name="csrf_token" type="hidden" value=")[^"&]*', "", html)  # fmt: skip
