"""The returns queue: status tabs, filters, search, sorting and one page of rows. htmx swaps the
results and pushes the tidy URL of the filters. The query is portal.returns.queue."""

from flask import current_app, make_response, render_template, request, url_for
from flask_login import current_user

from portal.auth.roles import staff_required
from portal.merchant import bp
from portal.merchant.forms import QueueFilterForm, choices, reason_choices
from portal.pagination import page_number
from portal.returns import queue as returns_queue
from portal.returns.detail import active_staff
from portal.web import is_htmx


def _filters(form):
    """Queue filters from the validated form; invalid values are dropped (and shown)."""
    data = {name: (None if field.errors else field.data) for name, field in form._fields.items()}
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
    form = QueueFilterForm(request.args)
    form.reason.choices = choices([("", "Any reason")] + reason_choices())
    form.responsible.choices = choices(
        [("", "Anyone"), ("me", "Me"), ("none", "Nobody")]
        + [(u.id, u.name or u.email) for u in active_staff()]
    )
    form.validate()
    filters = _filters(form)
    counts = returns_queue.tab_counts(filters)
    page = returns_queue.page_of(
        filters, current_app.config["PER_PAGE"], total=counts.get(filters.status)
    )
    filters.page = page.number
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "counts": counts,
        "tabs": returns_queue.TABS,
        "sorts": returns_queue.SORTS,
    }
    if not is_htmx():
        return render_template("merchant/queue.html", **context)
    response = make_response(render_template("merchant/_queue_results.html", **context))
    # The address bar gets the tidy, bookmarkable URL of these filters (defaults left out).
    response.headers["HX-Push-Url"] = url_for("merchant.queue", **filters.args())
    return response
