"""What each kind of outbox message does: the one registry, HANDLERS, read by delivery.

A handler runs with the message and the app's config. It raises RetryLater or GiveUp; the
domain's refund errors are mapped to them here, so the domain knows nothing of the outbox's
retries. `webhook` delivers one event to one endpoint (portal.outbox.webhooks). `label` asks the carrier for an approved return's
label (portal.carriers), and maps the carrier's errors the same way."""

from dataclasses import dataclass

from flask_babel import force_locale

from portal import carriers, i18n, mail
from portal.models import Order, Refund, Return, ReturnLabel
from portal.outbox import webhooks
from portal.outbox.errors import GiveUp, RetryLater
from portal.prebuilt import prebuilt_models
from portal.returns import account_security, refund_execution, shipping
from portal.returns.errors import NotFound, RefundBusy, RefundDeferred, RefundRefused


@dataclass(frozen=True)
class Handler:
    run: object  # (message, config) -> None
    on_failure: object = None  # (message, error, config) -> None, in the failing transaction
    on_retry: object = None  # (message, actor) -> int, replaces the plain reset
    max_attempts: object = None  # (config) -> int, replaces OUTBOX_MAX_ATTEMPTS


def send_email(message, config):
    payload = message.payload
    context = dict(payload.get("context") or {})
    if payload.get("rma_id"):
        found = prebuilt_models("email-return", _return_and_order, rma_id=payload["rma_id"])
        context["rma"] = found[0] if found else None
    attachments = []
    if context.get("label") and payload.get("rma_id"):  # the return label, as it was stored
        label = ReturnLabel.get_or_none(ReturnLabel.rma == payload["rma_id"])
        if label is not None:
            name = f"return-label-{context['rma'].reference}.pdf"
            attachments.append((name, bytes(label.pdf), "application", "pdf"))
    _send(message, payload["to"], payload["template"], context, attachments,
          payload.get("locale") or _return_locale(context.get("rma"), payload["to"]))  # fmt: skip


def _return_and_order(rma_id):
    """The email's return with its order (`rma.order`: nearly every email names the order),
    in one statement built once per process."""
    return Return.select(Return, Order).join(Order).where(Return.id == rma_id).limit(1)


def _return_locale(rma, to):
    """The language the return was asked for in, for an email to the shopper who asked (their
    account's language still comes first: portal.i18n.email_locale); staff get none."""
    if rma is None or not rma.locale or not to:
        return None
    return rma.locale if to.strip().lower() == (rma.email or "").strip().lower() else None


def _send(message, to, template, context, attachments=(), locale=None):
    # In the recipient's language (their account's, else the one they asked in).
    with force_locale(i18n.email_locale(to, locale)):
        subject, text, html = mail.render(template, **context)
    msg = mail.build(to, subject, text, html, message_id=f"<outbox-{message.id}@returns.portal>",
                     attachments=list(attachments))  # fmt: skip
    try:
        mail.send(msg)
    except mail.MailError as exc:
        raise (GiveUp if exc.permanent else RetryLater)(str(exc)) from exc


def send_account_email(message, config):
    """A password-reset or unlock email: the token is made here, so no database row ever
    holds one that works (portal.returns.account_security)."""
    base = config["PUBLIC_URL"].rstrip("/")
    paths = {account_security.RESET: "reset-password", account_security.UNLOCK: "unlock"}
    max_ages = {account_security.RESET: config["PASSWORD_RESET_MAX_AGE"],
                account_security.UNLOCK: config["UNLOCK_LINK_MAX_AGE"]}  # fmt: skip
    try:
        found = account_security.account_email(
            message.payload or {}, lambda purpose, token: f"{base}/{paths[purpose]}/{token}",
            max_ages,
        )  # fmt: skip
    except ValueError as exc:
        raise GiveUp(str(exc)) from exc
    if found is None:
        return
    template, to, context = found
    _send(message, to, template, context)


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


def _rma_id(message):
    return (message.payload or {}).get("rma_id")


def make_label(message, config):
    """The carrier makes the approved return's label (shipping.create_label)."""
    if not _rma_id(message):
        raise GiveUp("label message without an rma_id")
    try:
        shipping.create_label(_rma_id(message), carriers.carrier_for(config),
                              config.get("LABEL_SIZE") or "a4")  # fmt: skip
    except carriers.TransientCarrierError as exc:
        raise RetryLater(str(exc)) from exc
    except (carriers.PermanentCarrierError, NotFound) as exc:
        raise GiveUp(str(exc)) from exc


def label_failed(message, error, config):
    """No label for good: the shopper still gets the approval email; staff can retry."""
    if _rma_id(message):
        shipping.label_failed(_rma_id(message), error)


HANDLERS = {
    "email": Handler(send_email),
    "account_email": Handler(send_account_email),
    "refund": Handler(carry_out_refund, on_failure=refund_failed, on_retry=retry_refund),
    "label": Handler(make_label, on_failure=label_failed),
    "webhook": Handler(webhooks.deliver_webhook, max_attempts=webhooks.max_attempts),
}
