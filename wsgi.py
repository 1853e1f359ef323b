"""Entry point: `gunicorn wsgi:app`, `celery -A wsgi:celery_app worker`, `flask --app wsgi ...`."""

from portal import create_app

app = create_app()
celery_app = app.extensions["celery"]
