"""Users: shoppers and staff, one table, a role each."""

import datetime

from peewee import SQL, BooleanField, CharField, DateTimeField
from werkzeug.security import check_password_hash, generate_password_hash

from portal.db import BaseModel

ROLES = ("shopper", "agent", "manager", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
# scrypt: a memory-hard KDF with a per-password salt. The PASSWORD_HASH_METHOD setting is passed
# in by whoever sets a password; only the test suite picks a cheaper method.
DEFAULT_HASH_METHOD = "scrypt"


def now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class User(BaseModel):
    """An account. It answers what flask-login asks of a user (is_authenticated, is_active,
    is_anonymous, get_id) without importing it: the models know nothing of the web."""

    email = CharField(unique=True)  # always stored lower-cased
    password_hash = CharField()
    name = CharField(default="")
    role = CharField(
        default="shopper",
        constraints=[SQL("CHECK (role IN ('shopper', 'agent', 'manager', 'admin'))")],
    )
    active = BooleanField(default=True)
    created_at = DateTimeField(default=now)

    @staticmethod
    def normalize_email(email):
        return (email or "").strip().lower()

    @classmethod
    def by_email(cls, email):
        return cls.get_or_none(cls.email == cls.normalize_email(email))

    def set_password(self, password, method=DEFAULT_HASH_METHOD):
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self):
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self):
        return str(self.id)

    @property
    def is_staff(self):
        return self.role != "shopper"

    def has_role(self, minimum):
        """Staff roles are ordered: agent < manager < admin."""
        return ROLE_RANK[self.role] >= ROLE_RANK[minimum]

    @property
    def display_name(self):
        return self.name or self.email


# Staff pickers (queue filter, assignment on a return) list active staff by name: this partial
# index holds staff only, so that is never a scan of every shopper account (docs/performance.md).
User.add_index(
    User.index(User.name, User.email, where=(User.role != "shopper"), name="user_staff_by_name")
)
