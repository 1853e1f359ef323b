"""What each kind of outbox message does: the one registry, HANDLERS, read by delivery.

A handler runs with the message and the app's config. It raises RetryLater or GiveUp; the
domain's refund errors are mapped to them here, so the domain knows nothing of the outbox's
retries. Webhooks will be one more entry."""

from dataclasses import dataclass

from portal import mail
from portal.models import Refund, Return
from portal.outbox.errors import GiveUp, RetryLater
from portal.returns import refund_execution
from portal.returns.errors import NotFound, RefundBusy, RefundDeferred, RefundRefused


@dataclass(frozen=True)
class Handler:
    run: object  # (message, config) -> None
    on_failure: object = None  # (message, error, config) -> None, in the failing transaction
    on_retry: object = None  # (message, actor) -> int, replaces the plain reset


def send_email(message, config):
    payload = message.payload
    context = dict(payload.get("context") or {})
    if payload.get("rma_id"):
        context["rma"] = Return.get_or_none(Return.id == payload["rma_id"])
    subject, text, html = mail.render(payload["template"], **context)
    msg = mail.build(payload["to"], subject, text, html,
                     message_id=f"<outbox-{message.id}@returns.portal>")  # fmt: skip
    try:
        mail.send(msg)
    except mail.MailError as exc:
        raise (GiveUp if exc.permanent else RetryLater)(str(exc)) from exc


def _refund_id(message):
    return (message.payload or {}).get("refund_id")


def carry_out_refund(message, config):
    refund_id = _refund_id(message)
    if not refund_id:
        raise GiveUp("refund message without a refund_id")
    try:
        refund_execution.execute_refund(refund_id, config)
    except RefundBusy as busy:
        raise RetryLater(str(busy), delay=busy.wait + 0.5, counts=False) from busy
    except RefundDeferred as exc:
        raise RetryLater(str(exc)) from exc
    except RefundRefused as exc:
        raise GiveUp(str(exc)) from exc


def refund_failed(message, error, config):
    """The refund message failed for good: so does the refund (staff are told and can retry)."""
    if _refund_id(message):
        refund_execution.fail(_refund_id(message), error, staff_email=config.get("STAFF_EMAIL"))


def retry_refund(message, actor):
    refund = Refund.get_or_none(Refund.id == _refund_id(message))
    if refund is None:
        raise NotFound("The refund behind this message no longer exists.")
    refund_execution.retry_refund(refund, actor)
    return 1


HANDLERS = {
    "email": Handler(send_email),
    "refund": Handler(carry_out_refund, on_failure=refund_failed, on_retry=retry_refund),
}
