"""The transactional outbox: background work (emails, refunds, later webhooks) written as rows in
the same transaction as the change behind it, then carried out by the workers.

- messages: writing a message and publishing it to Celery after commit (the domain uses this);
- delivery: claiming, running, rescheduling and sweeping messages (the workers use this);
- handlers: the explicit registry of what each kind of message does.
"""
