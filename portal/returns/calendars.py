"""Each staff member's secret calendar URL (an ICS feed of the returns' target dates, for a
calendar app that can't sign in). Only the token's SHA-256 is stored, so the URL is shown once,
when it is made; resetting it makes a new one and the old URL stops working at once."""

import hashlib
import secrets

from portal.db import db
from portal.models import CalendarToken, User, now
from portal.returns.errors import NotFound
from portal.returns.transitions import require_staff


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def reset_token(actor):
    """A new secret for `actor`'s calendar URL (the old one, if any, stops working). Returns the
    token: the only time it is known in full."""
    require_staff(actor, message="Only staff have a returns calendar.")
    token = secrets.token_urlsafe(32)
    with db.atomic():
        CalendarToken.delete().where(CalendarToken.user == actor.id).execute()
        CalendarToken.create(user=actor.id, token_hash=_hash(token), created_at=now())
    return token


def token_of(actor):
    """The actor's token row (when it was made), or None."""
    return CalendarToken.get_or_none(CalendarToken.user == actor.id)


def user_for(token):
    """The active staff member whose calendar `token` opens; NotFound otherwise (a reset or
    made-up token, or an account no longer active or no longer staff)."""
    row = None
    if token and len(token) <= 100:
        row = CalendarToken.get_or_none(CalendarToken.token_hash == _hash(token))
    user = User.get_or_none(User.id == row.user_id) if row else None
    if user is None or not user.active or not user.is_staff:
        raise NotFound("This calendar address was reset or never existed: get the new one from "
                       "the Calendar page.")  # fmt: skip
    return user
