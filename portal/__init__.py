"""Returns Portal: the Flask application factory."""

import logging
from pathlib import Path

from flask import Flask

from portal import config

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config=None, web=True):
    """The portal's app. With `web=False` (the Celery workers' app, worker.py), none of what
    only serves requests is set up or even imported: the pages' blueprints, the API (its
    pydantic models), sign-in, the CLI (the demo data, the PDF libraries): a worker process
    never serves a page, and leaving them out keeps ~25 MB out of each worker (issue 17)."""
    app = Flask(
        __name__,
        instance_path=config.instance_path(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.load(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    if app.config["TRUSTED_PROXIES"]:
        # Behind N proxies, take the client's address, scheme and host from the headers they
        # set (the sign-in rate limit counts per client address); never trust them otherwise.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from portal import db, extensions, i18n, security_headers, store_look, templating
    from portal import web as web_layer
    from portal.celery_app import celery_init_app

    db.initialize(app.config["DATABASE_URL"], app.config["DATABASE_POOL_SIZE"])
    web_layer.init_app(app)
    security_headers.init_app(app)
    extensions.csrf.init_app(app)
    extensions.htmx.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    extensions.limiter.init_app(app)
    celery_init_app(app)
    if web:
        from portal import cli
        from portal.auth import init_login

        init_login(app)
        cli.init_app(app)
    templating.init_app(app)
    i18n.init_app(app)
    store_look.init_app(app)
    if not web:
        from portal.models import ReturnPolicy

        # What the emails' templates read that a blueprint would otherwise register
        # (portal.customer's return_policy global).
        app.add_template_global(ReturnPolicy.current, "return_policy")
        return app

    from portal import api
    from portal.auth import bp as auth_bp
    from portal.customer import bp as customer_bp
    from portal.health import bp as health_bp
    from portal.merchant import bp as merchant_bp
    from portal.webhooks import bp as webhooks_bp

    for blueprint in (auth_bp, customer_bp, merchant_bp, health_bp, webhooks_bp):
        app.register_blueprint(blueprint)
    api.init_app(app)
    return app
