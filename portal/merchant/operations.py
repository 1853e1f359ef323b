"""Operations: what the background workers are doing. The outbox (waiting and failed messages),
failed refunds, and retry buttons for managers. Staff only; permissions checked per request."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import JOIN, fn

from portal import outbox_delivery, refund_execution
from portal.auth.roles import manager_required, staff_required
from portal.db import db
from portal.health import oldest_pending_outbox_seconds
from portal.models import OutboxMessage, Refund, Return
from portal.returns.errors import DomainError

bp = Blueprint("operations", __name__, url_prefix="/merchant/operations")

LIST_LIMIT = 50


class RetryForm(FlaskForm):
    """A retry button: nothing to fill in, only the CSRF token."""


def age_text(seconds):
    """42 -> '42 s', 150 -> '2 min', 7200 -> '2 h', 200000 -> '2 d'."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def overview():
    """Everything the page shows, in a handful of queries."""
    counts = dict(
        OutboxMessage.select(OutboxMessage.status, fn.COUNT(OutboxMessage.id))
        .group_by(OutboxMessage.status)
        .tuples()
    )
    messages = (
        OutboxMessage.select(OutboxMessage, Return.reference.alias("rma_reference"))
        .join(Return, JOIN.LEFT_OUTER, on=(OutboxMessage.rma == Return.id))
        .objects()
        .order_by(OutboxMessage.created_at.desc())
        .limit(LIST_LIMIT)
    )
    refunds = (
        Refund.select(Refund, Return.reference.alias("rma_reference"))
        .join(Return)
        .objects()
        .order_by(Refund.created_at.desc())
        .limit(LIST_LIMIT)
    )
    refund_counts = dict(
        Refund.select(Refund.status, fn.COUNT(Refund.id)).group_by(Refund.status).tuples()
    )
    oldest = oldest_pending_outbox_seconds()
    return {
        "pending": counts.get("pending", 0),
        "failed": counts.get("failed", 0),
        "sent": counts.get("sent", 0),
        "oldest_pending": age_text(oldest) if counts.get("pending") else None,
        "waiting": list(
            messages.where(OutboxMessage.status == "pending").order_by(OutboxMessage.created_at)
        ),
        "failed_messages": list(messages.where(OutboxMessage.status == "failed")),
        "failed_refunds": list(refunds.where(Refund.status == "failed")),
        "refund_counts": refund_counts,
    }


def _render(status=200):
    template = (
        "merchant/_operations.html"
        if request.headers.get("HX-Request") == "true"
        else "merchant/operations.html"
    )
    can_retry = current_user.has_role("manager")
    return render_template(template, form=RetryForm(), can_retry=can_retry, **overview()), status


@bp.route("")
@staff_required
def index():
    """The outbox and failed refunds at a glance."""
    return _render()


def _retry(action, success):
    form = RetryForm()
    if not form.validate_on_submit():
        flash("That request could not be checked; reload the page and try again.", "error")
        return _done(422)
    try:
        with db.atomic():
            changed = action()
    except DomainError as exc:
        flash(str(exc), "error")
        return _done(422)
    if changed:
        flash(success, "success")
    else:
        flash("Nothing to retry: it is no longer failed.", "error")
    return _done(200 if changed else 422)


def _done(status):
    if request.headers.get("HX-Request") == "true":
        return _render(status)
    return redirect(url_for("operations.index"))


@bp.route("/messages/<int:message_id>/retry", methods=["POST"])
@manager_required
def retry_message(message_id):
    """Put a failed outbox message back in the queue (a refund message retries its refund)."""
    return _retry(
        lambda: outbox_delivery.retry(message_id, actor=current_user._get_current_object()),
        f"Message {message_id} is queued again.",
    )


@bp.route("/refunds/<int:refund_id>/retry", methods=["POST"])
@manager_required
def retry_refund(refund_id):
    """Retry a failed refund with the same idempotency key: never paid twice."""
    refund = Refund.get_or_none(Refund.id == refund_id)
    if refund is None:
        abort(404)
    return _retry(
        lambda: bool(refund_execution.retry_refund(refund, current_user._get_current_object())),
        f"Refund {refund_id} is queued again with the same idempotency key.",
    )
