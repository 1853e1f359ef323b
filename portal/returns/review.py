"""Staff decisions on a return: approve, reject, cancel, hold and resume, assign the responsible
staff member, internal notes. Each is one transaction through transitions.py."""

import datetime

from portal.db import db
from portal.models import ReturnPolicy, User, now
from portal.outbox.messages import enqueue_email
from portal.returns import exchanges, shipping, shopper_words
from portal.returns.eligibility import store_date
from portal.returns.errors import DomainError, InvalidTransition
from portal.returns.states import CANCELLED, REJECTED
from portal.returns.transitions import (
    change,
    check_version,
    ensure_editable,
    load,
    require_staff,
    transition,
)


def approval_changes(policy, at):
    """What approving writes on the return: when, and the date the parcel is due back by."""
    changes = {"approved_at": at, "target_date": None}
    if policy.expire_unshipped_days:
        today = store_date(at, policy.timezone)
        changes["target_date"] = today + datetime.timedelta(days=policy.expire_unshipped_days)
    return changes


def notify_approved(rma, policy):
    """The approval email; for a return whose method has a label, a worker makes the label
    first and sends the email with it (shipping.create_label)."""
    if shipping.enqueue_label(rma):
        return
    enqueue_email("return_approved", rma.email, f"return:{rma.id}:email:return_approved",
                  rma=rma, context={"return_address": policy.return_address})  # fmt: skip


def approve(rma, actor, version=None):
    require_staff(actor, "manager", "Only managers can approve returns.")
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        policy = ReturnPolicy.current()
        ensure_editable(current, policy)
        if policy.require_responsible and current.responsible_id is None:
            raise DomainError(
                "Assign a responsible staff member before approving: the store's policy "
                "requires one."
            )
        at = now()
        transition(current, "approve", actor, changes=approval_changes(policy, at))
        notify_approved(current, policy)
        exchanges.after_approval(current, policy, actor, at)
        return current


def reject(rma, actor, reason, version=None):
    """Reject a requested return. The reason is shown to the shopper."""
    require_staff(actor, "manager", "Only managers can reject returns.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the return is rejected; the shopper will read it.")
    if len(reason) > 2000:
        raise DomainError("Keep the rejection reason under 2000 characters.")
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        transition(current, "reject", actor, changes={"rejection_reason": reason}, reason=reason)
        exchanges.release(current, actor, "the return was rejected")
        enqueue_email("return_rejected", current.email,
                      f"return:{current.id}:email:return_rejected", rma=current,
                      context={"rejection_reason": reason})  # fmt: skip
        return current


def cancel(rma, actor, reason, version=None):
    """Staff cancel a return that has not received anything (e.g. the shopper phoned)."""
    require_staff(actor, "manager", "Only managers can cancel returns.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the return is cancelled; the shopper will read it.")
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        transition(current, "cancel", actor, reason=reason[:2000], by="staff")
        exchanges.release(current, actor, "the return was cancelled")
        enqueue_email("return_cancelled", current.email,
                      f"return:{current.id}:email:return_cancelled", rma=current,
                      context={"reason": reason[:2000]})  # fmt: skip
        return current


def hold(rma, actor, note="", version=None):
    require_staff(actor)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        held_from = current.status
        note = (note or "").strip()[:2000]
        transition(current, "hold", actor, held_from=held_from, note=note)
        enqueue_email("return_on_hold", current.email,
                      f"return:{current.id}:email:return_on_hold:v{current.version}",
                      rma=current, context={"note": note})  # fmt: skip
        return current


def resume(rma, actor, version=None):
    require_staff(actor)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        transition(current, "resume", actor, status=current.held_from)
        enqueue_email("return_resumed", current.email,
                      f"return:{current.id}:email:return_resumed:v{current.version}",
                      rma=current,
                      context={"status_label": shopper_words.STATUS[current.status]})  # fmt: skip
        return current


def assign_responsible(rma, actor, user, version=None):
    """Make `user` (an active staff member, or None to clear) responsible for the return."""
    require_staff(actor)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        if current.status in (REJECTED, CANCELLED):
            raise InvalidTransition("This return is closed; it needs no responsible member.")
        member = None
        if user is not None:
            member = User.get_or_none(User.id == getattr(user, "id", user))
            if member is None or not member.is_staff or not member.active:
                raise DomainError("Choose an active staff member.")
        change(
            current, "assigned", actor, internal=True,
            changes={"responsible": member.id if member else None},
            responsible_id=member.id if member else None,
            responsible=member.display_name if member else "",
        )  # fmt: skip
        return current


def add_internal_note(rma, actor, text, version=None):
    """A staff-only note on the timeline (never shown to the shopper)."""
    require_staff(actor)
    text = (text or "").strip()
    if not text:
        raise DomainError("Write the note first.")
    if len(text) > 5000:
        raise DomainError("Keep notes under 5000 characters.")
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        ensure_editable(current, ReturnPolicy.current())
        change(current, "note", actor, internal=True, text=text)
        return current


def send_email(rma, actor, subject, message, version=None):
    """Staff (or an API key) write to the shopper about their return: the email goes through the
    outbox, and the timeline keeps what was sent. Allowed on any return, completed ones too."""
    require_staff(actor)
    subject = " ".join((subject or "").split())[:200]
    message = (message or "").strip()[:5000]
    if not subject or not message:
        raise DomainError("Write a subject and a message for the shopper.")
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        event = change(current, "email_sent", actor, subject=subject, message=message)
        enqueue_email("staff_message", current.email, f"return:{current.id}:email:message:{event.id}",
                      rma=current, context={"topic": subject, "message": message})  # fmt: skip
        return current
