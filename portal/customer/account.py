"""The shopper's account page: their store credit balance and its entries."""

from flask import render_template
from flask_login import current_user, login_required
from peewee import fn

from portal.customer import bp
from portal.models import StoreCredit


def credit_for(user):
    """(balances {currency: cents}, entries newest first) for a signed-in shopper.

    Credit belongs to the account, or to its email address for orders placed as a guest."""
    mine = (StoreCredit.customer == user.id) | (fn.LOWER(StoreCredit.email) == user.email.lower())
    balances = dict(
        StoreCredit.select(StoreCredit.currency, fn.SUM(StoreCredit.amount))
        .where(mine)
        .group_by(StoreCredit.currency)
        .order_by(StoreCredit.currency)
        .tuples()
    )
    entries = list(
        StoreCredit.select()
        .where(mine)
        .order_by(StoreCredit.created_at.desc(), StoreCredit.id.desc())
        .limit(100)
    )
    return balances, entries


@bp.route("/account")
@login_required
def account():
    """Store credit balance (per currency) and where it came from."""
    balances, entries = credit_for(current_user)
    return render_template("customer/account.html", balances=balances, entries=entries)
