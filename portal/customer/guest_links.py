"""Signed, single-use, time-limited links that open one order for a guest (no account).

The token is signed with the app's SECRET_KEY (itsdangerous) and names the order, its email and
a random id. Opening it writes a Counter row "guest-token:<id>" in the database: a second opening
finds the row and is refused, even after a restart or with Redis gone."""

import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from peewee import IntegrityError

from portal.db import db
from portal.i18n import page_language
from portal.models import Counter, Order
from portal.outbox.messages import enqueue_email
from portal.returns.errors import DomainError
from portal.returns.marks import N_

SALT = "guest-order-link"
# What a link opens: the order page, or the withdrawal from its contract (issue 16).
ORDER = "order"
WITHDRAW = "withdraw"


class GuestLinkError(DomainError):
    pass


def _serializer(secret_key):
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def make_token(secret_key, order, purpose=ORDER):
    payload = {"o": order.number, "e": order.email, "j": secrets.token_urlsafe(16)}
    if purpose != ORDER:
        payload["p"] = purpose
    return _serializer(secret_key).dumps(payload), payload["j"]


def send_link(secret_key, order, valid_for, link_for, purpose=ORDER):
    """Email the order's address a new link; `link_for(token)` makes its URL. `purpose`
    WITHDRAW: the link leads to the withdrawal from the order's contract."""
    token, jti = make_token(secret_key, order, purpose)
    with db.atomic():
        enqueue_email(
            "guest_link",
            order.email,
            f"guest-link:{jti}",
            context={
                "link": link_for(token),
                "order_number": order.number,
                "valid_for": valid_for,
                "purpose": purpose,
            },
            locale=page_language(),
        )  # fmt: skip  (the guest's page language)


def purpose_of(secret_key, token):
    """What a link (already checked by read_token) opens: ORDER or WITHDRAW."""
    payload = _serializer(secret_key).loads_unsafe(token)[1]
    return WITHDRAW if isinstance(payload, dict) and payload.get("p") == WITHDRAW else ORDER


def _marker(jti):
    return f"guest-token:{jti}"


def read_token(secret_key, token, max_age):
    """(order, jti) for a valid, unexpired, unused link; GuestLinkError otherwise."""
    try:
        payload = _serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired:
        raise GuestLinkError(N_("This link has expired. Ask for a new one below.")) from None
    except BadSignature:
        raise GuestLinkError(N_("This link is not valid. Ask for a new one below.")) from None
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in "oej"):
        raise GuestLinkError(N_("This link is not valid. Ask for a new one below."))
    order = Order.get_or_none((Order.number == payload["o"]) & (Order.email == payload["e"]))
    if order is None:
        raise GuestLinkError(N_("This link is not valid any more. Ask for a new one below."))
    if Counter.select().where(Counter.name == _marker(payload["j"])).exists():
        raise GuestLinkError(N_("This link has already been used. Ask for a new one below."))
    return order, payload["j"]


def open_token(secret_key, token, max_age):
    """Check the link and mark it used, in one transaction; returns the order it opens."""
    order, jti = read_token(secret_key, token, max_age)
    try:
        with db.atomic():
            Counter.create(name=_marker(jti), value=1)
    except IntegrityError:
        raise GuestLinkError(
            N_("This link has already been used. Ask for a new one below.")
        ) from None
    return order
