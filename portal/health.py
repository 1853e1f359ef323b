"""/healthz: is the database answering, and is Redis? Plus how old the oldest pending outbox
message is (work that is waiting: a growing age means workers or Redis are not keeping up)."""

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


def oldest_pending_outbox_seconds():
    """Age in whole seconds of the oldest pending outbox message; 0 when none is waiting."""
    from portal.models import OutboxMessage, now

    oldest = (
        OutboxMessage.select(OutboxMessage.created_at)
        .where(OutboxMessage.status == "pending")
        .order_by(OutboxMessage.created_at)
        .first()
    )
    return 0 if oldest is None else max(int((now() - oldest.created_at).total_seconds()), 0)


@bp.route("/healthz")
def healthz():
    checks = {
        "database": check_database(),
        "redis": check_redis(current_app.config["REDIS_URL"]),
    }
    healthy = all(v == "ok" for v in checks.values())
    if checks["database"] == "ok":
        try:
            checks["outbox_oldest_pending_seconds"] = oldest_pending_outbox_seconds()
        except Exception as exc:  # a schema not migrated yet, say: report, don't fail
            checks["outbox_oldest_pending_seconds"] = f"error: {exc.__class__.__name__}"
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503
