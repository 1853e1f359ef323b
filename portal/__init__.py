"""Returns Portal: the Flask application factory."""

import logging
import os
from pathlib import Path

from flask import Flask, render_template

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config=None):
    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTAL_INSTANCE", str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from portal import config

    app.config.from_mapping(config.load(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    if app.config["TRUSTED_PROXIES"]:
        # Behind N proxies, take the client's address, scheme and host from the headers they
        # set (the sign-in rate limit counts per client address); never trust them otherwise.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from portal.models import accounts

    accounts.PASSWORD_HASH_METHOD = app.config["PASSWORD_HASH_METHOD"]

    from portal import db, extensions
    from portal.celery_app import celery_init_app

    db.init_app(app)
    extensions.csrf.init_app(app)
    extensions.htmx.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    extensions.limiter.init_app(app)
    celery_init_app(app)

    from portal.auth import init_login

    init_login(app)

    from portal.auth.views import bp as auth_bp
    from portal.customer.views import bp as customer_bp
    from portal.health import bp as health_bp
    from portal.merchant.views import bp as merchant_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(customer_bp)
    app.register_blueprint(merchant_bp)
    app.register_blueprint(health_bp)

    from portal.customer.account import bp as account_bp
    from portal.merchant.operations import bp as operations_bp

    app.register_blueprint(account_bp)
    app.register_blueprint(operations_bp)

    from portal import cli, templating

    cli.init_app(app)
    templating.init_app(app)

    @app.errorhandler(403)
    def forbidden(error):
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(413)
    def too_large(error):
        return render_template("errors/413.html"), 413

    return app
