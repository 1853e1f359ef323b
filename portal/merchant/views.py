"""Merchant side: the returns queue (this module), a return's detail and actions
(detail_views), and the store settings and staff accounts (settings_views). Staff only; every
permission is checked on the server, per request."""

from functools import wraps

from flask import Blueprint, current_app, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from portal.auth.roles import staff_required
from portal.merchant import queue as returns_queue
from portal.merchant.forms import QueueFilterForm, choices
from portal.models import User
from portal.pagination import page_number
from portal.returns.settings import reason_tree

bp = Blueprint("merchant", __name__, url_prefix="/merchant")


def is_htmx():
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def role_or_403(minimum, message):
    """Like roles.role_required, but tells staff without the role why, in words."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.is_staff:
                return render_template("errors/403.html"), 403
            if not current_user.has_role(minimum):
                return render_template("merchant/forbidden.html", message=message), 403
            return view(*args, **kwargs)

        return wrapped

    return decorator


def staff_choices():
    return list(
        User.select(User.id, User.name, User.email)
        .where((User.role != "shopper") & (User.active == True))  # noqa: E712
        .order_by(User.name, User.email)
    )


def reason_choices():
    return [(str(r.id), ("— " * depth) + r.label + ("" if r.active else " (inactive)"))
            for r, depth in reason_tree()]  # fmt: skip


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
        + [(u.id, u.name or u.email) for u in staff_choices()]
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


from portal.merchant import detail_views, settings_views  # noqa: E402, F401  (routes on bp)
