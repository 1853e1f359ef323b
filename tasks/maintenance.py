"""Small operational tasks."""

from celery import shared_task

from portal.models import User


@shared_task(name="tasks.maintenance.count_users")
def count_users():
    """Answers how many accounts exist: proves a worker reaches the database."""
    return User.select().count()
