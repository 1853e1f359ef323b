"""Photos kept with a return request's draft: a form that comes back with an error (or goes to
its review) keeps the photos already chosen under the form's random token, and the shopper sees
"Photo kept: cap.jpg" instead of choosing them again. Submitting the request hands them to the
return (requests.request_return(draft=...)); drafts never submitted are swept after a day.

The files themselves are stored and deleted by the web layer (portal.uploads); this module keeps
the rows."""

import datetime
import re
import secrets

from portal.db import db
from portal.models import DraftPhoto, now

TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")
KEEP_FOR = datetime.timedelta(days=1)


def new_token():
    return secrets.token_urlsafe(24)


def valid(token):
    """The token as posted, or None when it is not one of ours (a new one is made)."""
    return token if isinstance(token, str) and TOKEN.fullmatch(token) else None


def keep(token, order_line_id, photo, original_name=""):
    """Keep a stored photo (uploads.StoredPhoto: stored_name, content_type, size) with the
    draft."""
    with db.atomic():
        return DraftPhoto.create(token=token, order_line=order_line_id,
                                 stored_name=photo.stored_name,
                                 content_type=photo.content_type, size=photo.size,
                                 original_name=(original_name or "")[:200])  # fmt: skip


def kept(token, order_line_ids=None):
    """{order_line_id: [DraftPhoto]} kept with the draft, oldest first."""
    if not token:
        return {}
    query = DraftPhoto.select().where(DraftPhoto.token == token)
    if order_line_ids is not None:
        query = query.where(DraftPhoto.order_line.in_(list(order_line_ids)))
    result = {}
    for photo in query.order_by(DraftPhoto.id):
        result.setdefault(photo.order_line_id, []).append(photo)
    return result


def drop(token, photo_ids):
    """Forget the draft's photos `photo_ids`; returns them (their files are the caller's)."""
    ids = [i for i in photo_ids if isinstance(i, int)]
    if not token or not ids:
        return []
    with db.atomic():
        rows = list(DraftPhoto.select().where((DraftPhoto.token == token)
                                              & DraftPhoto.id.in_(ids)))  # fmt: skip
        if rows:
            DraftPhoto.delete().where(DraftPhoto.id.in_([r.id for r in rows])).execute()
    return rows


def taken_over(token):
    """The draft's photos now belong to a return: forget the rows, keep the files. Called in
    the request's transaction."""
    if token:
        DraftPhoto.delete().where(DraftPhoto.token == token).execute()


def expired(at=None):
    """Drafts older than KEEP_FOR, forgotten; returns them (the caller deletes their files)."""
    cutoff = (at or now()) - KEEP_FOR
    with db.atomic():
        rows = list(DraftPhoto.select().where(DraftPhoto.created_at < cutoff))
        if rows:
            DraftPhoto.delete().where(DraftPhoto.id.in_([r.id for r in rows])).execute()
    return rows
