"""Waiting for something that happens in another thread or process, instead of sleeping: poll
a condition until it holds (or fail with what was awaited), and the broker's view of whether
any Celery task is still queued or running."""

import time


def wait_until(condition, timeout=30, interval=0.1, message="condition"):
    """Poll `condition()` until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


QUEUES = ("celery", "io")  # the default queue and the outbox's (portal.celery_app)


def queued_tasks(redis_url, queues=QUEUES):
    """How many tasks wait in the Redis broker's queues, not taken by any worker yet."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return sum(client.llen(queue) for queue in queues)
    finally:
        client.close()


def broker_idle(redis_url, queues=QUEUES):
    """True when the Redis broker holds no task: none queued, none delivered and not yet acked.

    Tasks are acked late (task_acks_late), so a task a worker is running, or holds for a later
    countdown, stays in kombu's `unacked` hash until it has finished: an idle broker means every
    task published so far has run to the end and no retry is scheduled."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return all(client.llen(q) == 0 for q in queues) and client.hlen("unacked") == 0
    finally:
        client.close()
