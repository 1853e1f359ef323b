"""A real Celery worker (a thread in this process) on the real test Redis."""

from portal.db import db
from tasks.maintenance import count_users


def test_worker_answers_count_users(app, make, celery_worker):
    with app.app_context():
        for i in range(3):
            make.user(f"user{i}@example.com")
    db.close()  # committed (autocommit); the worker thread has its own connection

    result = count_users.apply_async(ignore_result=False)
    assert result.get(timeout=20) == 3
    assert result.successful()


def test_worker_sees_rows_committed_between_tasks(app, make, celery_worker):
    assert count_users.apply_async(ignore_result=False).get(timeout=20) == 0
    with app.app_context():
        make.staff("agent", email="agent@example.com")
    db.close()
    assert count_users.apply_async(ignore_result=False).get(timeout=20) == 1


def test_the_task_uses_the_app_broker_and_backend(app, redis_url):
    celery = app.extensions["celery"]
    assert celery.conf.broker_url == redis_url
    assert celery.conf.result_backend == redis_url
    assert celery.conf.task_acks_late is True
    assert count_users.app is celery  # shared_task bound to the app create_app() made default
