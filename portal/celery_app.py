"""Celery bound to the Flask app (Flask's "Background Tasks with Celery" pattern)."""

from celery import Celery, Task, signals
from kombu import Queue
from kombu.transport import redis as kombu_redis

from portal.db import ensure_connection, release, set_sqlite_cache

TASK_MODULES = ["tasks.maintenance", "tasks.outbox", "tasks.housekeeping"]
DEFAULT_QUEUE = "celery"
IO_QUEUE = "io"


@signals.worker_init.connect
def _smaller_sqlite_caches(sender=None, **kwargs):
    """In a worker (before its pool starts): each of its SQLite connections, one per thread of
    a threads pool, gets a small page cache (WORKER_SQLITE_CACHE_KB), so memory per worker
    stays bounded whatever the number of threads (issue 17)."""
    conf = getattr(getattr(sender, "app", None), "conf", None)
    if conf is not None:
        set_sqlite_cache(conf.get("portal_worker_sqlite_cache_kb"))


class _RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, with its synchronous client made once per connection pool.

    kombu makes a new redis-py client for every message it takes (the late ack's bookkeeping of
    unacknowledged messages), every ack and every publish, and redis-py's client builds its
    table of ~200 response callbacks each time: a tenth of a threads worker's CPU on the
    refund bench. A client is only the pool, its settings and that table (redis-py's clients
    are safe to share between threads: each command takes a connection from the pool), so one
    per pool does the same; a pool kombu replaces (a reconnect) gets a client of its own."""

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool = self.pool
        cached = self.__dict__.get("_portal_client")
        if cached is None or cached.connection_pool is not pool:
            cached = self._portal_client = super()._create_client()
        return cached


class RedisTransport(kombu_redis.Transport):
    """kombu's Redis transport with _RedisChannel (broker_transport for redis:// URLs)."""

    Channel = _RedisChannel


REDIS_TRANSPORT = f"{__name__}:RedisTransport"


def celery_init_app(app):
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                ensure_connection()
                try:
                    return self.run(*args, **kwargs)
                finally:
                    release()  # kept open for this thread's next task (see portal.db)

    celery = Celery(app.name, task_cls=FlaskTask, include=TASK_MODULES)
    redis_url = app.config["REDIS_URL"]
    celery.conf.update(
        # The outbox's deliveries (refunds at the gateway, emails, labels) wait on the network:
        # their own queue, for a threads-pool worker; everything else stays on the default
        # queue for a prefork worker. A worker started without -Q takes both.
        task_queues=[Queue(DEFAULT_QUEUE), Queue(IO_QUEUE)],
        task_default_queue=DEFAULT_QUEUE,
        task_routes={"tasks.outbox.deliver": {"queue": IO_QUEUE}},
        broker_url=redis_url,
        result_backend=redis_url,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_time_limit=120,
        task_soft_time_limit=100,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Fail fast when Redis is down (one quick retry, ~0.2 s): the outbox sweeper delivers
        # the work later, so a web request never waits on a dead broker.
        broker_transport_options={
            "visibility_timeout": 3600,
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
            "socket_connect_timeout": 2,
        },
        broker_connection_timeout=2,
        redis_socket_connect_timeout=2,
        redis_socket_timeout=5,
        result_expires=3600,
        timezone="UTC",
        beat_schedule={
            "outbox-sweep": {
                "task": "tasks.outbox.sweep",
                "schedule": float(app.config["OUTBOX_SWEEP_SECONDS"]),
            },
            "returns-housekeeping": {
                "task": "tasks.housekeeping.run",
                "schedule": float(app.config["HOUSEKEEPING_SECONDS"]),
            },
        },
    )
    celery.conf.update(app.config.get("CELERY", {}))
    if str(celery.conf.broker_url or "").startswith("redis://") and not celery.conf.get(
        "broker_transport"
    ):
        celery.conf.broker_transport = REDIS_TRANSPORT
    celery.conf.portal_worker_sqlite_cache_kb = app.config["WORKER_SQLITE_CACHE_KB"]
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
