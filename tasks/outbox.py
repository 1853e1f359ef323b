"""Outbox delivery and the sweeper that re-publishes messages left pending."""

from celery import shared_task
from flask import current_app

from portal.outbox import delivery


@shared_task(name="tasks.outbox.deliver")
def deliver(message_id):
    """Carry out one outbox message; failures are rescheduled on the row, not in Celery."""
    return delivery.deliver(message_id, current_app.config)


@shared_task(name="tasks.outbox.sweep")
def sweep():
    """Publish messages still pending after a short delay (Redis was down, a task was lost)."""
    return delivery.sweep(current_app.config)
