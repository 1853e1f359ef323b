"""The returns queue: status tabs, filters, search, sorting and one page of rows. htmx swaps the
results and pushes the tidy URL of the filters. The query is portal.returns.queue."""

import csv
import io

from flask import (
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from portal.auth.roles import staff_required
from portal.merchant import bp, queue_page
from portal.models import now
from portal.pagination import page_number
from portal.returns import bulk
from portal.returns import queue as returns_queue
from portal.returns.detail import active_staff
from portal.returns.errors import DomainError
from portal.web import actor, cache_generation, is_htmx, safe_local_url


def filter_form(staff, generation):
    """The queue's filter form read from the query string and validated (the slow path: a
    value the form refuses, or no picker generation to key the cached pieces on)."""
    form = queue_page.new_form(request.args, staff, generation)
    form.validate()
    return form


def form_data(form):
    """The validated form's data; invalid values are dropped (and shown)."""
    return {name: (None if field.errors else field.data) for name, field in form._fields.items()}


def filters_of(data):
    """Queue filters from the filter form's data."""
    status = request.args.get("status", "open")
    return returns_queue.Filters(
        status=status if status in returns_queue.TAB_NAMES else "open",
        q=(data["q"] or "").strip(),
        reason=int(data["reason"]) if data["reason"] else None,
        responsible=data["responsible"] or "",
        date_from=data["date_from"],
        date_to=data["date_to"],
        sort=data["sort"] if data["sort"] in returns_queue.SORTS else returns_queue.DEFAULT_SORT,
        page=page_number(request.args.get("page")),
        user_id=current_user.id,
    )


@bp.route("/returns")
@staff_required
def queue():
    """Returns by status tab, filtered, searched, sorted and paginated. htmx swaps the results."""
    generation = cache_generation()
    staff = active_staff(generation)
    values = None
    if generation is not None:
        values = queue_page.valid_values(request.args, staff, generation)
    if values is not None:  # the usual case: every filter value is one the form accepts
        form = None
        filters = filters_of(queue_page.data_of(values))
    else:
        form = filter_form(staff, generation)
        filters = filters_of(form_data(form))
    counts = returns_queue.tab_counts(filters)
    page = returns_queue.page_of(
        filters, current_app.config["PER_PAGE"], total=counts.get(filters.status)
    )
    filters.page = page.number
    base = url_for("merchant.queue")
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "rows": queue_page.shown_rows(page.items, now()),
        "counts": counts,
        "tabs": returns_queue.TABS,
        "staff": staff,
        "queue_href": lambda args: queue_page.queue_href(base, args),
        "qlink": queue_page.queue_links(base),
    }
    htmx = is_htmx()
    if htmx:
        context["sort_oob"] = queue_page.sort_oob(form, filters.sort)
    else:
        context["fields"] = (
            queue_page.rendered_fields(form)
            if form is not None
            else queue_page.fast_fields(values, staff, generation)
        )
    if not htmx:
        return render_template("merchant/queue.html", **context)
    response = make_response(render_template("merchant/_queue_results.html", **context))
    # The address bar gets the tidy, bookmarkable URL of these filters (defaults left out).
    response.headers["HX-Push-Url"] = url_for("merchant.queue", **filters.args())
    return response


@bp.route("/returns/bulk", methods=["POST"])
@staff_required
def bulk_action():
    """Approve (managers), assign or export the returns ticked on the queue; each changes on its
    own, and the page says which did what."""
    ids = request.form.getlist("rma")
    action = request.form.get("action")
    if action == "approve" and not current_user.has_role("manager"):
        message = "Only managers can approve returns."
        return render_template("merchant/forbidden.html", message=message), 403
    back = safe_local_url(request.form.get("back")) or url_for("merchant.queue")
    try:
        if action == "export":
            return csv_response(bulk.export_rows(ids))
        if action == "approve":
            outcome = bulk.approve(ids, actor())
            verb = "approved"
        elif action == "assign":
            assignee = request.form.get("assignee") or None
            if assignee is not None and not assignee.isdigit():
                raise DomainError("Choose a staff member to assign the returns to.")
            outcome = bulk.assign(ids, actor(), int(assignee) if assignee else None)
            verb = "assigned"
        else:
            raise DomainError("Choose what to do with the selected returns.")
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(back, code=303)
    if outcome.done:
        flash(f"{len(outcome.done)} return(s) {verb}: {', '.join(outcome.done)}.", "success")
    for reference, why in outcome.refused:
        flash(f"{reference}: {why}", "error")
    return redirect(back, code=303)


def csv_response(rows, filename="returns.csv"):
    """A CSV download of `rows`, written a line at a time as it streams (never the whole file
    in memory); the request context stays open for the queries behind `rows`."""

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
