"""Entry point of the Celery workers and beat: `celery -A worker:celery_app worker` (or beat).

The same app as wsgi.py's without its web side (portal.create_app(web=False)): no pages, API or
CLI are imported into a process that never serves them."""

from portal import create_app

app = create_app(web=False)
celery_app = app.extensions["celery"]
