"""The merchant side, staff only: the returns queue (queue), a return's page (detail) and the
actions on it (actions), the exchange orders to ship (fulfilment), orders and the returns
staff create on them (orders), the store's
settings (settings), inventory locations and stock (locations), staff accounts (staff), the
audit log (audit) and what the background workers are doing (operations). Every permission is checked on the server, per
request (portal.auth.roles)."""

from flask import Blueprint

bp = Blueprint("merchant", __name__, url_prefix="/merchant")

from portal.merchant import (  # noqa: E402, F401  (routes on bp)
    actions,
    api_keys,
    audit,
    detail,
    documents,
    exports,
    fulfilment,
    locations,
    operations,
    orders,
    queue,
    receiving,
    settings,
    shipping,
    staff,
    store,
    webhooks,
)
