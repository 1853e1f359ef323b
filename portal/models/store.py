"""The store's look (issue 16): its name, logo and accent colour, shown on every page and email
instead of "Returns Portal". One row (id 1), created with the defaults on first use."""

from peewee import BlobField, CharField, DateTimeField, IntegerField

from portal.db import BaseModel
from portal.models.accounts import now

DEFAULT_NAME = "Returns Portal"
DEFAULT_ACCENT = "#0b5cad"


class StoreLook(BaseModel):
    name = CharField(default=DEFAULT_NAME)
    accent = CharField(default=DEFAULT_ACCENT)  # "#rrggbb", white text on it passes WCAG AA
    logo = BlobField(null=True)  # re-encoded by portal/uploads.py; None: no logo
    logo_type = CharField(default="")  # its content type
    version = IntegerField(default=1)  # bumped on every change: caches and the logo's URL
    updated_at = DateTimeField(default=now)

    @classmethod
    def current(cls):
        look = cls.get_or_none(cls.id == 1)
        if look is None:
            cls.insert(id=1).on_conflict_ignore().execute()
            look = cls.get(cls.id == 1)
        return look
