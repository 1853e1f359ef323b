"""Users: shoppers and staff, one table, a role each."""

import datetime

from peewee import SQL, BigIntegerField, BooleanField, CharField, DateTimeField, IntegerField
from werkzeug.security import check_password_hash, generate_password_hash

from portal.db import BaseModel

ROLES = ("shopper", "agent", "manager", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
# scrypt: a memory-hard KDF with a per-password salt. The PASSWORD_HASH_METHOD setting is passed
# in by whoever sets a password; only the test suite picks a cheaper method. N=2^14, r=8, p=5 is
# one of OWASP's equivalent scrypt settings (werkzeug's default, N=2^15 with p=1, is below
# them) and needs 16 MiB while it runs instead of 32: a web process signing someone in peaked
# at its usual size plus 32 MiB (docs/performance.md). Hashes made with other parameters carry
# them and still verify.
DEFAULT_HASH_METHOD = "scrypt:16384:8:5"


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
    # The session generation: part of get_id(), so the session cookie and the remember-me
    # cookie carry it. Bumped by sign-out, a password change or reset, "sign out everywhere"
    # and deactivation: every session of the account made before then is refused at once.
    session_version = IntegerField(default=1)
    # Failed sign-ins in a row on this account (from any address), and the lock they led to.
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    lock_count = IntegerField(default=0)  # locks since the last good sign-in: each one doubles
    # Two-factor sign-in (TOTP): the secret (set at enrolment, kept while it is on), when it
    # was confirmed (None: not on), and the last time step used (a code works only once).
    totp_secret = CharField(null=True)
    totp_enabled_at = DateTimeField(null=True)
    totp_last_step = BigIntegerField(null=True)
    # The language pages and emails use ("en", "de"); None: the browser's (Accept-Language).
    # Set on My account, or from the browser at the first sign-in.
    locale = CharField(null=True)

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
        """flask-login's id: "<user id>:<session generation>" (see session_version)."""
        return f"{self.id}:{self.session_version}"

    @property
    def totp_enabled(self):
        return self.totp_enabled_at is not None

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
