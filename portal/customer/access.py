"""Who may see which order and return: the signed-in shopper who owns the order, or a guest
whose emailed link opened that one order (kept in the session). Anything else is a 404."""

import operator
from functools import reduce, wraps

from flask import abort, current_app, session
from flask_login import current_user

from portal.models import Order, Return
from portal.prebuilt import prebuilt_models, prebuilt_rows

GUEST_KEY = "guest_order"


def guest_number():
    """The order number a guest link opened in this browser session, if any."""
    value = session.get(GUEST_KEY)
    return value if isinstance(value, str) and value else None


def grant_guest(number):
    session[GUEST_KEY] = number


def is_shopper():
    return current_user.is_authenticated and not current_user.is_staff


def viewer_required(view):
    """A signed-in user or a guest with a link; anyone else is sent to sign in."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated and guest_number() is None:
            abort(current_app.login_manager.unauthorized())
        return view(*args, **kwargs)

    return wrapped


def order_scope():
    """The condition selecting the orders this visitor may see (None: no order at all)."""
    conditions = []
    if is_shopper():
        conditions.append(Order.customer == current_user.id)
    if guest_number() is not None:
        conditions.append(Order.number == guest_number())
    return reduce(operator.or_, conditions) if conditions else None


def _scope_values():
    """What order_scope() decides on, as parameters: {"customer_id": ..., "guest_number": ...}
    (either, both or none)."""
    values = {}
    user = current_user._get_current_object()  # is_shopper()'s, looked up once
    if user.is_authenticated and not user.is_staff:
        values["customer_id"] = user.id
    guest = guest_number()
    if guest is not None:
        values["guest_number"] = guest
    return values


def _scoped(customer_id=None, guest_number=None):
    conditions = []
    if customer_id is not None:
        conditions.append(Order.customer == customer_id)
    if guest_number is not None:
        conditions.append(Order.number == guest_number)
    return reduce(operator.or_, conditions)


def _one(kind, build, rows_of=prebuilt_models, **values):
    """The first row of a prebuilt statement per scope shape (its SQL built once each);
    `rows_of`: prebuilt_rows for a statement of one model's columns (no join)."""
    scope = _scope_values()
    if not scope:
        return None
    rows = rows_of(f"{kind}:{'+'.join(scope)}", build, **values, **scope)
    return rows[0] if rows else None


def _order_query(number, **scope):
    return Order.select().where((Order.number == number) & _scoped(**scope)).limit(1)


def _return_query(reference, **scope):
    return (
        Return.select(Return, Order)
        .join(Order)
        .where((Return.reference == reference) & _scoped(**scope))
        .limit(1)
    )


def order_or_404(number):
    order = _one("shopper-order", _order_query, rows_of=prebuilt_rows, number=number)
    if order is None:
        abort(404)
    return order


def return_query():
    scope = order_scope()
    query = Return.select(Return, Order).join(Order)
    return query.where(scope) if scope is not None else query.where(Return.id.is_null())


def return_or_404(reference):
    rma = _one("shopper-return", _return_query, reference=reference)
    if rma is None:
        abort(404)
    return rma


def return_for_owner_or_staff(reference):
    """A return's files (photos, label, credit note) are for the shopper or guest who owns it
    and for staff; anyone else gets a 404."""
    if current_user.is_authenticated and current_user.is_staff:
        rma = Return.get_or_none(Return.reference == reference)
        if rma is None:
            abort(404)
        return rma
    return return_or_404(reference)


def requester():
    """The account making a request (None for a guest)."""
    return current_user._get_current_object() if is_shopper() else None


def contact_email(order):
    """Where a return's emails go: the signed-in owner's address, else the order's."""
    if is_shopper() and order.customer_id == current_user.id:
        return current_user.email
    return order.email
