"""Getting the parcel back (issue 14): the label a carrier made for a return, the carriers'
status updates received (each once), and the staff's secret calendar feed tokens."""

from peewee import BlobField, CharField, DateTimeField, ForeignKeyField

from portal.db import BaseModel, JSONField
from portal.models.accounts import User, now
from portal.models.returns import Return


class ReturnLabel(BaseModel):
    """The label a carrier made for a return (one per return): its PDF and tracking number."""

    rma = ForeignKeyField(Return, unique=True, backref="labels", on_delete="CASCADE")
    carrier = CharField()
    tracking_number = CharField(index=True)
    size = CharField(default="a4")
    pdf = BlobField()
    created_at = DateTimeField(default=now)


class CarrierEvent(BaseModel):
    """A carrier's status update, stored once per event id: a replay changes nothing."""

    event_id = CharField(unique=True)
    tracking_number = CharField()
    status = CharField()
    rma = ForeignKeyField(Return, null=True, on_delete="SET NULL")
    payload = JSONField(default=dict)
    received_at = DateTimeField(default=now)


class CalendarToken(BaseModel):
    """A staff member's secret calendar URL: only its SHA-256 is kept; resetting replaces it."""

    user = ForeignKeyField(User, unique=True, on_delete="CASCADE")
    token_hash = CharField(unique=True)
    created_at = DateTimeField(default=now)
