"""The store's look on every page (web): its name and logo in the header and title, and its
accent colour as CSS custom properties served by /store.css (the CSP allows no inline style).

Each process keeps the look for LOOK_TTL seconds (one small query then); saving it here forgets
it at once, other processes see it within LOOK_TTL."""

import time
from dataclasses import dataclass

from flask import Response, abort, current_app

from portal.models import StoreLook
from portal.models.store import DEFAULT_ACCENT, DEFAULT_NAME
from portal.returns.store_look import darker

LOOK_TTL = 30


@dataclass(frozen=True)
class Look:
    name: str = DEFAULT_NAME
    accent: str = DEFAULT_ACCENT
    has_logo: bool = False
    version: int = 0


def _cache():
    return current_app.extensions.setdefault("store_look", {"look": None, "at": 0.0})


def current():
    cache = _cache()
    if cache["look"] is None or time.monotonic() - cache["at"] > LOOK_TTL:
        row = (
            StoreLook.select(
                StoreLook.name, StoreLook.accent, StoreLook.logo_type, StoreLook.version
            )  # fmt: skip
            .where(StoreLook.id == 1)
            .first()
        )
        look = Look()
        if row is not None:
            look = Look(row.name, row.accent, bool(row.logo_type), row.version)
        cache.update(look=look, at=time.monotonic())
    return cache["look"]


def forget():
    _cache()["look"] = None


def stylesheet():
    look = current()
    css = f":root {{ --brand: {look.accent}; --brand-dark: {darker(look.accent)}; }}\n"
    response = Response(css, mimetype="text/css")
    response.cache_control.max_age = 60
    return response


def logo(version):
    row = StoreLook.get_or_none(StoreLook.id == 1)
    if row is None or not row.logo or row.version != version:
        abort(404)
    response = Response(bytes(row.logo), mimetype=row.logo_type)
    response.cache_control.max_age = 86400
    response.cache_control.public = True
    return response


def init_app(app):
    app.add_url_rule("/store.css", "store_css", stylesheet)
    app.add_url_rule("/store-logo/<int:version>", "store_logo", logo)

    @app.context_processor
    def _store():
        return {"store": current()}
