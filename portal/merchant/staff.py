"""Staff accounts: admins add agents, managers and admins, and deactivate them. No Flask here."""

from peewee import IntegrityError

from portal.db import db
from portal.models import User
from portal.returns.errors import DomainError, NotAllowed, NotFound
from portal.seed import create_user

STAFF_ROLES = ("agent", "manager", "admin")


def _admin(actor):
    if actor is None or not actor.active or actor.role != "admin":
        raise NotAllowed("Only admins can manage staff accounts.")


def add_staff(actor, email, name, role, password):
    _admin(actor)
    email = User.normalize_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise DomainError("Enter a valid email address.")
    if role not in STAFF_ROLES:
        raise DomainError("Choose agent, manager or admin.")
    if len(password or "") < 10:
        raise DomainError("The initial password needs at least 10 characters.")
    if User.by_email(email) is not None:
        raise DomainError(f"There is already an account for {email}.")
    try:
        return create_user(email, password, (name or "").strip()[:120], role)
    except IntegrityError:
        raise DomainError(f"There is already an account for {email}.") from None


def set_active(actor, user_id, active):
    """Deactivate (they are signed out on their next request) or reactivate a staff account."""
    _admin(actor)
    with db.atomic():
        user = User.get_or_none(User.id == int(user_id))
        if user is None or not user.is_staff:
            raise NotFound("That staff account doesn't exist.")
        if user.id == actor.id and not active:
            raise DomainError("You can't deactivate your own account.")
        user.active = bool(active)
        user.save()
        return user
