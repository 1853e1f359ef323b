"""The EU withdrawal function (portal.returns.withdrawal): step one names the order and its
lines (all withdrawable units chosen), step two is "Confirm withdrawal". Signed-in shoppers
reach it from their order page, guests through the emailed link (/withdraw, guest.py)."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext

from portal.customer import bp
from portal.customer.access import contact_email, order_or_404, requester, viewer_required
from portal.customer.forms import WithdrawForm
from portal.i18n import error_text, page_language
from portal.returns import withdrawal
from portal.returns.errors import Conflict, DomainError


def _first_step(order, form=None, error=None, status=200):
    page = withdrawal.page(order)
    if form is None or error is None:
        form = WithdrawForm(formdata=None)
        for row in page.lines:
            form.lines.append_entry({"order_line_id": row.line.id,
                                     "quantity": row.withdrawable})  # fmt: skip
    asked = form.quantities()
    return render_template("customer/withdraw.html", page=page, order=order, form=form,
                           asked=asked, error=error), status  # fmt: skip


@bp.route("/orders/<number>/withdraw", methods=["GET", "POST"])
@viewer_required
def withdraw(number):
    """GET: step one. POST: step one's choice checked, then step two (nothing written yet)."""
    order = order_or_404(number)
    form = WithdrawForm()
    if not form.is_submitted():
        return _first_step(order)
    if not form.validate():
        return _first_step(order, form, gettext("Check the numbers of items below."), 422)
    try:
        chosen = withdrawal.review(order, form.quantities())
    except DomainError as exc:
        return _first_step(order, form, error_text(exc), 422)
    return render_template("customer/withdraw_confirm.html", order=order, chosen=chosen,
                           form=form, version=order.version,
                           page=withdrawal.page(order))  # fmt: skip


@bp.route("/orders/<number>/withdraw/confirm", methods=["POST"])
@viewer_required
def withdraw_confirm(number):
    """Step two: the withdrawal is recorded and the acknowledgment emailed at once."""
    order = order_or_404(number)
    form = WithdrawForm()
    if not form.validate():
        return _first_step(order, form, gettext("Check the numbers of items below."), 422)
    try:
        rma = withdrawal.withdraw(order, requester(), contact_email(order), form.quantities(),
                                  version=form.version.data,
                                  staff_email=current_app.config["STAFF_EMAIL"],
                                  locale=page_language())  # fmt: skip
    except Conflict as exc:  # a second click, or another request in between: look again
        return _first_step(order, None, error_text(exc), 409)
    except DomainError as exc:
        return _first_step(order, form, error_text(exc), 422)
    flash(gettext("Your withdrawal from order #%(number)s is received (%(ref)s). We have emailed you "
            "an acknowledgment with its date and time.", number=order.number, ref=rma.reference),
          "success")  # fmt: skip
    return redirect(url_for("customer.return_detail", reference=rma.reference), code=303)
