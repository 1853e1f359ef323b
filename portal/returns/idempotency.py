"""Stored first answers of API POSTs sent with an Idempotency-Key (as Stripe keeps them): one
row per (API key, Idempotency-Key) holding a hash of the request and, once it is done, the
answer to replay. No Flask: the web layer (portal/api/idempotency.py) turns requests and
answers into the plain values kept here."""

import datetime

from peewee import IntegrityError

from portal.db import db
from portal.models import IdempotentRequest, now

CLAIMED = "claimed"  # this caller runs the request
DONE = "done"  # the first answer is stored: replay it
RUNNING = "running"  # the first request is still running
MISMATCH = "mismatch"  # the key was used with another request


def claim(api_key_id, key, method, path, body_hash, keep_seconds):
    """(state, row): CLAIMED when this call inserted the row (the caller runs the request),
    else what the stored row says. A row older than `keep_seconds` is forgotten first."""
    cutoff = now() - datetime.timedelta(seconds=keep_seconds)
    with db.atomic():
        row = IdempotentRequest.get_or_none(
            (IdempotentRequest.api_key == api_key_id) & (IdempotentRequest.key == key)
        )
        if row is not None and row.created_at < cutoff and row.status is not None:
            row.delete_instance()
            row = None
        if row is None:
            try:
                with db.atomic():
                    row = IdempotentRequest.create(api_key=api_key_id, key=key, method=method,
                                                   path=path[:255], body_hash=body_hash)  # fmt: skip
                return CLAIMED, row
            except IntegrityError:  # another request claimed it a moment ago
                row = IdempotentRequest.get(
                    (IdempotentRequest.api_key == api_key_id) & (IdempotentRequest.key == key)
                )
    if row.body_hash != body_hash:
        return MISMATCH, row
    return (DONE if row.status is not None else RUNNING), row


def peek(row_id):
    return IdempotentRequest.get_or_none(IdempotentRequest.id == row_id)


def save(row_id, status, body, headers):
    """Store the first answer of a claimed request."""
    with db.atomic():
        IdempotentRequest.update(status=status, body=body, headers=headers).where(
            IdempotentRequest.id == row_id
        ).execute()


def release(row_id):
    """Forget a claim whose request failed on the server's side: a retry runs it again."""
    with db.atomic():
        IdempotentRequest.delete().where(
            (IdempotentRequest.id == row_id) & IdempotentRequest.status.is_null()
        ).execute()


def purge(keep_seconds, at=None):
    """Delete stored answers older than `keep_seconds` (housekeeping); returns how many."""
    cutoff = (at or now()) - datetime.timedelta(seconds=keep_seconds)
    with db.atomic():
        return IdempotentRequest.delete().where(IdempotentRequest.created_at < cutoff).execute()
