"""The merchant side, staff only: the returns queue (queue), a return's page (detail) and the
actions on it (actions), the store's settings (settings), staff accounts (staff) and what the
background workers are doing (operations). Every permission is checked on the server, per
request (portal.auth.roles)."""

from flask import Blueprint

bp = Blueprint("merchant", __name__, url_prefix="/merchant")

from portal.merchant import actions, detail, operations, queue, settings, staff  # noqa: E402, F401
