"""/healthz: is the database answering, and is Redis?"""

import redis
from flask import Blueprint, current_app, jsonify

from portal.db import db

bp = Blueprint("health", __name__)


def check_database():
    try:
        db.execute_sql("SELECT 1")
        return "ok"
    except Exception as exc:  # any driver error means "down"
        return f"error: {exc.__class__.__name__}"


def check_redis(url):
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        return "ok"
    except redis.RedisError as exc:
        return f"error: {exc.__class__.__name__}"


@bp.route("/healthz")
def healthz():
    checks = {
        "database": check_database(),
        "redis": check_redis(current_app.config["REDIS_URL"]),
    }
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503
