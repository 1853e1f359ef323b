"""Operations: what the background workers are doing. The outbox (waiting and failed messages),
failed refunds, and retry buttons for managers. Staff only; permissions checked per request."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.auth.roles import manager_required, staff_required
from portal.merchant import bp
from portal.models import Refund
from portal.outbox import delivery
from portal.returns import refund_execution
from portal.returns.operations import overview
from portal.web import EmptyForm, actor, is_htmx, run_action


def _render(status=200):
    template = "merchant/_operations.html" if is_htmx() else "merchant/operations.html"
    can_retry = current_user.has_role("manager")
    return render_template(template, form=EmptyForm(), can_retry=can_retry,
                           **overview()), status  # fmt: skip


def _done(status):
    if is_htmx():
        return _render(status)
    return redirect(url_for("merchant.operations"))


@bp.route("/operations")
@staff_required
def operations():
    """The outbox and failed refunds at a glance."""
    return _render()


def _retry(action, success):
    def refused(message, error):
        flash(str(error) if error else "That request could not be checked; reload the page and "
              "try again.", "error")  # fmt: skip
        return _done(422)

    def finished(changed):
        if changed:
            flash(success, "success")
        else:
            flash("Nothing to retry: it is no longer failed.", "error")
        return _done(200 if changed else 422)

    return run_action(EmptyForm(), action, refused, finished)


@bp.route("/operations/messages/<int:message_id>/retry", methods=["POST"])
@manager_required
def retry_message(message_id):
    """Put a failed outbox message back in the queue (a refund message retries its refund)."""
    return _retry(lambda: delivery.retry(message_id, actor=actor()),
                  f"Message {message_id} is queued again.")  # fmt: skip


@bp.route("/operations/refunds/<int:refund_id>/retry", methods=["POST"])
@manager_required
def retry_failed_refund(refund_id):
    """Retry a failed refund with the same idempotency key: never paid twice."""
    refund = Refund.get_or_none(Refund.id == refund_id)
    if refund is None:
        abort(404)
    return _retry(lambda: bool(refund_execution.retry_refund(refund, actor())),
                  f"Refund {refund_id} is queued again with the same idempotency key.")  # fmt: skip
