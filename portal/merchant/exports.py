"""Exports for staff: the queue as CSV with the filters shown (streamed, a chunk of returns at a
time), and the calendar of target dates at a secret URL per staff member (ICS), with the page
that makes and resets that URL."""

from flask import Response, current_app, render_template, request, stream_with_context, url_for
from flask_login import current_user

from portal.auth.roles import staff_required
from portal.merchant import bp
from portal.merchant.queue import csv_response, filter_form, filters_of, form_data
from portal.returns import calendars, exports
from portal.returns.detail import active_staff
from portal.returns.errors import DomainError
from portal.web import EmptyForm, actor, cache_generation, run_action


@bp.route("/returns/export.csv")
@staff_required
def export_queue():
    """Every return the queue shows with these filters and this tab, as CSV."""
    generation = cache_generation()
    filters = filters_of(form_data(filter_form(active_staff(generation), generation)))
    return csv_response(exports.queue_rows(filters), "returns.csv")


@bp.route("/calendar", methods=["GET", "POST"])
@staff_required
def calendar():
    """The secret address of this staff member's calendar feed; POST makes a new one."""
    form = EmptyForm()
    if request.method != "POST":
        return render_template("merchant/calendar.html", form=form, token=None,
                               made=calendars.token_of(current_user))  # fmt: skip

    def shown(token):
        # The address calendar apps reach the portal at (PUBLIC_URL), like the emails' links.
        url = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("merchant.calendar_feed",
                                                                      token=token)  # fmt: skip
        return render_template("merchant/calendar.html", form=EmptyForm(formdata=None),
                               token=token, url=url, made=calendars.token_of(current_user))  # fmt: skip

    def refused(message, error):
        return render_template("merchant/calendar.html", form=form, token=None, error=message,
                               made=calendars.token_of(current_user)), 422  # fmt: skip

    return run_action(form, lambda: calendars.reset_token(actor()), refused, shown)


@bp.route("/calendar/<token>.ics")
def calendar_feed(token):
    """The ICS feed (no sign-in: the secret in the URL is the key). ?include_completed=True
    adds completed returns."""
    try:
        calendars.user_for(token)
    except DomainError as exc:
        return Response(str(exc) + "\n", status=404, mimetype="text/plain")
    include = request.args.get("include_completed", "").lower() in ("true", "1", "yes")
    lines = exports.calendar_lines(current_app.config["PUBLIC_URL"], include_completed=include)
    response = Response(stream_with_context(lines), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = 'inline; filename="returns.ics"'
    return response
