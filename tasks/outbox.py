"""Outbox delivery and the sweeper that re-publishes messages left pending."""

from celery import shared_task

import portal.refund_execution  # noqa: F401  registers the "refund" handler in the worker
from portal import outbox_delivery


@shared_task(name="tasks.outbox.deliver")
def deliver(message_id):
    """Carry out one outbox message; failures are rescheduled on the row, not in Celery."""
    return outbox_delivery.deliver(message_id)


@shared_task(name="tasks.outbox.sweep")
def sweep():
    """Publish messages still pending after a short delay (Redis was down, a task was lost)."""
    return outbox_delivery.sweep()
