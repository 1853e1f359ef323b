"""Celery tasks. Thin: each loads by id, calls one portal function, and returns."""
