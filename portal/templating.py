"""Jinja filters and globals shared by every page (money, dates and moments: portal/i18n.py)."""

from flask import current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

from portal.page_frame import page_frame
from portal.returns.refund_states import WORDS as REFUND_WORDS


def nav_links():
    """The navigation's links for the signed-in user's role in the page's language: the same
    for every page, so rendered once per process (they were ~15 url_for and gettext calls on
    every staff page)."""
    from portal.i18n import page_language

    role = current_user.role if current_user.is_authenticated else "shopper"
    key = (page_language(), role, request.script_root)
    cache = current_app.extensions.setdefault("nav_links", {})
    html = cache.get(key)
    if html is None:
        html = cache[key] = Markup(render_template("_nav_links.html", role=role))
    return html


def init_app(app):
    app.jinja_env.globals["refund_words"] = REFUND_WORDS  # a refund's status in words
    app.jinja_env.globals["nav_links"] = nav_links
    app.jinja_env.globals["page_frame"] = page_frame

    @app.template_filter("humanize")
    def _humanize(value):
        return str(value or "").replace("_", " ").capitalize()
