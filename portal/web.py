"""What every page of the portal shares: htmx detection, the signed-in actor, the empty form of
an action button, running an action, and (init_app) the thread's kept-open database connection around each
request (portal.db.ensure_connection / release) and the error pages.

htmx detection reads htmx-flask's `request.htmx` (its Htmx extension is installed in
create_app). htmx-flask 0.1.0 has one known mistake: a missing comma in its list of swaps makes
`make_response(reswap="afterbegin")` and `reswap="beforebegin"` raise ValueError. The portal
never asks for those two swaps and sets the HX-Reswap header itself where it needs one.
"""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError

from portal.db import ensure_connection, release
from portal.returns.errors import DomainError, NotFound

CSRF_MESSAGE = (
    "This form had expired or did not come from this site, so nothing was changed. "
    "Go back, reload the page and try again."
)


def is_htmx():
    """An htmx request that swaps part of a page (a history restore wants the whole page)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request


def safe_local_url(target):
    """A local path to go back to (after sign-in, after a bulk action), or None: never another
    site (microblog's netloc check, and more)."""
    if not target:
        return None
    # Browsers read a backslash as "/" and drop tabs and newlines, so "/<backslash>evil.example"
    # or "/<tab>/evil.example" would become "//evil.example": refuse both outright.
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def actor():
    """The signed-in user as a model object (None for a visitor), for domain calls."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def cache_generation():
    """The pickers' cache generation read with the signed-in user (portal.returns.pickers), on
    a GET; None otherwise (a POST may have just changed a picker: the domain reads it anew)."""
    if request.method not in ("GET", "HEAD"):
        return None
    return getattr(current_user, "cache_generation", None)


class EmptyForm(FlaskForm):
    """A CSRF-protected button with nothing to fill in (microblog's EmptyForm)."""


def first_error(form):
    """The first validation message of `form`, prefixed with its field's label."""
    for name, errors in form.errors.items():
        for error in errors:
            if isinstance(error, dict):  # a FieldList of sub-forms
                for sub in error.values():
                    if sub:
                        return sub[0]
            elif isinstance(error, list):
                if error:
                    return error[0]
            else:
                label = getattr(getattr(form, name, None), "label", None)
                return error if name == "csrf_token" or label is None else f"{label.text}: {error}"
    return "Check the form and try again."


class LineErrors:
    """A form's messages per (order_line_id, field), and for the form as a whole: the return
    forms (the shopper's request, a return staff create) show each beside its input."""

    def __init__(self):
        self.by_field = {}
        self.general = []

    def add(self, line_id, field, message):
        from portal.i18n import translated  # the domain's sentences in the page's language

        message = translated(message)
        if line_id is None or field is None:
            if message not in self.general:
                self.general.append(message)
        elif message not in self.of(line_id, field):
            self.by_field.setdefault((line_id, field), []).append(message)

    def has(self, line_id, field):
        return bool(self.by_field.get((line_id, field)))

    def of(self, line_id, field):
        return self.by_field.get((line_id, field), [])

    def __bool__(self):
        return bool(self.by_field or self.general)


def run_action(form, call, refused, done):
    """The one sequence of every action: validate `form`, run `call()` (a domain function that
    opens its own transaction), then answer `done(result)`; an invalid form or a DomainError
    answers `refused(message, error)` instead, and nothing was changed."""
    if not form.validate_on_submit():
        return refused(first_error(form), None)
    try:
        result = call()
    except DomainError as exc:
        from portal.i18n import error_text

        return refused(error_text(exc), exc)
    return done(result)


def page_refusal(page, invalid, **bound):
    """`refused` for run_action() on a settings page: `page(status, error, **bound)` again, 404
    when the row is gone, else 422, with `invalid` for a form that didn't validate (its fields
    say why) or the domain's message."""

    def refused(message, error):
        status = 404 if isinstance(error, NotFound) else 422
        return page(status=status, error=message if error else invalid, **bound)

    return refused


def flash_done(message, endpoint):
    """`done` for run_action() on a settings page: flash `message` (with {name} of the row the
    action returned) and go back to `endpoint`."""

    def done(row):
        flash(message.format(name=row.name), "success")
        return redirect(url_for(endpoint), code=303)

    return done


def opens_own_connection(view):
    """Mark a view that opens the database itself (lazily), e.g. a health check that must
    answer 503 with a reason when the database is down."""
    view.opens_own_connection = True
    return view


def init_app(app):
    from portal.sessions import KeptKeySessions

    app.session_interface = KeptKeySessions()

    @app.before_request
    def _open_connection():
        view = app.view_functions.get(request.endpoint)
        if not getattr(view, "opens_own_connection", False):
            ensure_connection()

    @app.teardown_request
    def _release_connection(exc):
        release()  # kept open for this thread's next request (see portal.db)

    @app.errorhandler(403)
    def forbidden(error):
        return api_problem(error) or (render_template("errors/403.html"), 403)

    @app.errorhandler(404)
    def not_found(error):
        return api_problem(error) or (render_template("errors/404.html"), 404)

    @app.errorhandler(405)
    def wrong_method(error):
        return api_problem(error) or error

    @app.errorhandler(413)
    def too_large(error):
        return api_problem(error) or (render_template("errors/413.html"), 413)

    @app.errorhandler(CSRFError)
    def csrf_refused(error):
        return api_problem(error) or (render_template("errors/problem.html",
                                      title="Please try again", message=CSRF_MESSAGE), 400)  # fmt: skip


def api_problem(error):
    """Under /api/ every error is a problem document (portal.api), never an HTML page."""
    from portal.api.problems import from_http_error, is_api_request

    return from_http_error(error) if is_api_request() else None
