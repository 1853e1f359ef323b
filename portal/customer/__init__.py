"""The shopper's side: order history and order pages (orders), the return request (request_form),
tracking and cancelling returns (tracking), guest access by emailed link (guest) and the account
page (account). Who may see which order is decided in access.py: another shopper's order or
return is a 404."""

from flask import Blueprint

from portal.customer.words import page_gettext
from portal.models import ReturnPolicy
from portal.paths import path_for

bp = Blueprint("customer", __name__)
bp.add_app_template_global(page_gettext)  # the customer pages' `_` (portal/customer/words.py)
bp.add_app_template_global(path_for)  # url_for for a page's own links (portal/paths.py)


@bp.app_template_global()
def return_policy():
    """The store's return policy, for templates that need its address or window (emails too)."""
    return ReturnPolicy.current()


from portal.customer import (  # noqa: E402, F401
    account,
    guest,
    orders,
    parcel,
    request_form,
    tracking,
    withdrawal,
)
