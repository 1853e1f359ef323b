"""/healthz: is the database answering, and is Redis? Plus how old the oldest pending outbox
message is (work that is waiting: a growing age means workers or Redis are not keeping up)."""

import redis
from flask import Blueprint, current_app, jsonify

from portal.db import db
from portal.outbox import messages
from portal.web import opens_own_connection

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
    except (redis.RedisError, ValueError) as exc:  # ValueError: REDIS_URL isn't a redis:// URL
        return f"error: {exc.__class__.__name__}"


@bp.route("/healthz")
@opens_own_connection  # a database that is down is a 503 with its reason, not a 500
def healthz():
    checks = {
        "database": check_database(),
        "redis": check_redis(current_app.config["REDIS_URL"]),
    }
    healthy = all(v == "ok" for v in checks.values())
    if checks["database"] == "ok":
        try:
            checks["outbox_oldest_pending_seconds"] = messages.oldest_pending_seconds()
        except Exception as exc:  # a schema not migrated yet, say: report, don't fail
            checks["outbox_oldest_pending_seconds"] = f"error: {exc.__class__.__name__}"
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503
