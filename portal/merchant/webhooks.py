"""Webhook endpoints (admins): add one (its secret shown once, on the answer itself: never in a
flash, which lives in the session cookie), change it, rotate its secret, read its delivery log
and redeliver an event. The rules are portal.returns.webhook_endpoints; each POST calls one of
its functions, which owns its transaction and writes the audit entry."""

from flask import abort, current_app, flash, redirect, render_template, url_for

from portal.auth.roles import role_required
from portal.merchant import bp
from portal.merchant.admin_forms import WebhookEndpointForm
from portal.returns import webhook_endpoints
from portal.returns.errors import NotFound
from portal.web import EmptyForm, actor, run_action

ADMINS = webhook_endpoints.ADMINS
NOT_CHECKED = "That request could not be checked; try again."


def _list_page(form=None, status=200, error=None, secret=None, added=None):
    return render_template(
        "merchant/webhooks.html",
        endpoints=webhook_endpoints.all_endpoints(),
        form=form or WebhookEndpointForm(formdata=None),
        error=error,
        secret=secret,
        added=added,
    ), status


def _endpoint_page(endpoint_id, form=None, status=200, error=None, secret=None):
    try:
        endpoint, deliveries = webhook_endpoints.deliveries(endpoint_id)
    except NotFound:
        abort(404)
    form = form or WebhookEndpointForm(
        formdata=None, url=endpoint.url, description=endpoint.description,
        event_types=endpoint.event_types, active=endpoint.active,
    )  # fmt: skip
    return render_template(
        "merchant/webhook.html",
        endpoint=endpoint,
        deliveries=deliveries,
        form=form,
        button_form=EmptyForm(formdata=None),
        error=error,
        secret=secret,
        overlap=current_app.config["WEBHOOK_SECRET_OVERLAP_SECONDS"],
    ), status


@bp.route("/webhooks", methods=["GET", "POST"])
@role_required("admin", ADMINS)
def webhooks():
    """The endpoints, and (POST) adding one."""
    form = WebhookEndpointForm()
    if not form.is_submitted():
        return _list_page()

    def call():
        return webhook_endpoints.add_endpoint(
            actor(), url=form.url.data, event_types=form.event_types.data,
            description=form.description.data, active=form.active.data,
        )  # fmt: skip

    def refused(message, error):
        return _list_page(form, 422, message if error else "Check the endpoint's fields.")

    def done(result):
        endpoint, secret = result
        return _list_page(secret=secret, added=endpoint)

    return run_action(form, call, refused, done)


@bp.route("/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@role_required("admin", ADMINS)
def webhook_endpoint(endpoint_id):
    """An endpoint: its settings and (POST) changing them, its delivery log."""
    form = WebhookEndpointForm()
    if not form.is_submitted():
        return _endpoint_page(endpoint_id)

    def call():
        return webhook_endpoints.save_endpoint(
            actor(), endpoint_id, url=form.url.data, event_types=form.event_types.data,
            description=form.description.data, active=form.active.data,
        )  # fmt: skip

    def refused(message, error):
        status = 404 if isinstance(error, NotFound) else 422
        return _endpoint_page(endpoint_id, form, status,
                              message if error else "Check the endpoint's fields.")  # fmt: skip

    def done(endpoint):
        flash(f"Webhook endpoint {endpoint.url} saved.", "success")
        return redirect(url_for("merchant.webhook_endpoint", endpoint_id=endpoint.id), code=303)

    return run_action(form, call, refused, done)


@bp.route("/webhooks/<int:endpoint_id>/rotate", methods=["POST"])
@role_required("admin", ADMINS)
def rotate_webhook_secret(endpoint_id):
    """A new secret, shown once; the old one keeps signing for the overlap."""
    overlap = current_app.config["WEBHOOK_SECRET_OVERLAP_SECONDS"]
    return run_action(
        EmptyForm(),
        lambda: webhook_endpoints.rotate_secret(actor(), endpoint_id, overlap),
        lambda message, error: _endpoint_page(
            endpoint_id,
            status=404 if isinstance(error, NotFound) else 422,
            error=message if error else NOT_CHECKED,
        ),  # fmt: skip
        lambda result: _endpoint_page(endpoint_id, secret=result[1]),
    )


@bp.route("/webhooks/<int:endpoint_id>/deliveries/<int:message_id>/redeliver", methods=["POST"])
@role_required("admin", ADMINS)
def redeliver_webhook(endpoint_id, message_id):
    def done(result):
        flash("The event is on its way again (same webhook-id).", "success")
        return redirect(url_for("merchant.webhook_endpoint", endpoint_id=endpoint_id), code=303)

    return run_action(
        EmptyForm(),
        lambda: webhook_endpoints.redeliver(actor(), endpoint_id, message_id),
        lambda message, error: _endpoint_page(
            endpoint_id,
            status=404 if isinstance(error, NotFound) else 422,
            error=message if error else NOT_CHECKED,
        ),  # fmt: skip
        done,
    )
