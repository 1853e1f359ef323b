"""Accounts: creating one (shoppers get their earlier guest orders), and staff accounts that
admins add, deactivate and reactivate. Passwords are hashed with the method the caller passes
(the PASSWORD_HASH_METHOD setting)."""

from peewee import IntegrityError

from portal.db import db
from portal.models import Order, User
from portal.models.accounts import DEFAULT_HASH_METHOD
from portal.returns import audit
from portal.returns.errors import DomainError, NotAllowed, NotFound

STAFF_ROLES = ("agent", "manager", "admin")
MIN_PASSWORD = 10


def create_user(email, password, name="", role="shopper", hash_method=DEFAULT_HASH_METHOD):
    """Create an account and attach the guest orders already placed with its email."""
    user = User(email=User.normalize_email(email), name=name, role=role)
    user.set_password(password, hash_method)
    with db.atomic():
        user.save()
        if role == "shopper":
            Order.update(customer=user).where(
                (Order.email == user.email) & Order.customer.is_null()
            ).execute()
    return user


def _admin(actor):
    if actor is None or not actor.active or actor.role != "admin":
        raise NotAllowed("Only admins can manage staff accounts.")


def add_staff(actor, email, name, role, password, hash_method=DEFAULT_HASH_METHOD):
    _admin(actor)
    email = User.normalize_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise DomainError("Enter a valid email address.")
    if role not in STAFF_ROLES:
        raise DomainError("Choose agent, manager or admin.")
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(f"The initial password needs at least {MIN_PASSWORD} characters.")
    if User.by_email(email) is not None:
        raise DomainError(f"There is already an account for {email}.")
    try:
        with db.atomic():
            user = create_user(email, password, (name or "").strip()[:120], role, hash_method)
            audit.record(actor, "staff.added", f"user:{user.id}",
                         after={"email": user.email, "role": user.role})  # fmt: skip
            return user
    except IntegrityError:
        raise DomainError(f"There is already an account for {email}.") from None


def set_active(actor, user_id, active):
    """Deactivate (every session of theirs ends at once) or reactivate a staff account."""
    _admin(actor)
    with db.atomic():
        user = User.get_or_none(User.id == int(user_id))
        if user is None or not user.is_staff:
            raise NotFound("That staff account doesn't exist.")
        if user.id == actor.id and not active:
            raise DomainError("You can't deactivate your own account.")
        if user.active != bool(active):
            user.active = bool(active)
            if not active:  # every session and remember-me cookie of theirs ends now
                user.session_version += 1
            user.save()
            audit.record(actor, "staff.activated" if active else "staff.deactivated",
                         f"user:{user.id}", {"active": not active, "email": user.email},
                         {"active": bool(active), "email": user.email})  # fmt: skip
        return user


def change_role(actor, user_id, role):
    """An admin changes a staff member's role (agent, manager, admin). It takes effect on their
    next request. An admin can't lower their own role (someone must stay admin)."""
    _admin(actor)
    if role not in STAFF_ROLES:
        raise DomainError("Choose agent, manager or admin.")
    with db.atomic():
        user = User.get_or_none(User.id == int(user_id))
        if user is None or not user.is_staff:
            raise NotFound("That staff account doesn't exist.")
        if user.id == actor.id and role != user.role:
            raise DomainError("You can't change your own role; ask another admin.")
        if user.role != role:
            before = user.role
            user.role = role
            user.save()
            audit.record(actor, "staff.role_changed", f"user:{user.id}",
                         {"role": before, "email": user.email}, {"role": role, "email": user.email})  # fmt: skip
        return user


LANGUAGES = ("en", "de")  # the portal's languages; the first is the default


def set_locale(user, locale, only_if_unset=False):
    """An account's language for pages and emails ("en" or "de"; None: the browser's). With
    `only_if_unset`, an account that has one keeps it (the browser's language at sign-in)."""
    if locale is not None and locale not in LANGUAGES:
        raise DomainError("Choose English or Deutsch.")
    with db.atomic():
        query = User.update(locale=locale).where(User.id == user.id)
        if only_if_unset:
            query = query.where(User.locale.is_null())
        if query.execute():
            user.locale = locale
    return user
