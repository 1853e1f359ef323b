"""Small operational tasks."""

from celery import Task, shared_task

from portal.models import User


@shared_task(name="tasks.maintenance.count_users")
def count_users():
    """Answers how many accounts exist: proves a worker reaches the database."""
    return User.select().count()


@shared_task(name="tasks.maintenance.noop", base=Task)
def noop():
    """Does nothing: the worker baseline in bench/. A plain Celery task (no app context, no
    database connection), so it measures Celery and Redis alone."""
    return None
