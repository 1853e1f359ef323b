"""The pages under load, with the concrete URLs picked from the generated data.

Each target is (name, who signs in, path). Merchant pages use the bench manager; shopper pages
use the bench shopper (BENCH_SHOPPER_ORDERS orders). The queue's query arguments are those of
portal/merchant/queue.py: status (tab), q (search), page.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from peewee import fn

MANAGER = "manager"
SHOPPER = "shopper"
QUEUE = "/merchant/returns"


@dataclass
class Target:
    name: str
    who: str
    path: str
    label: str
    queue: bool = False


def _queue(**args):
    return QUEUE + ("?" + urlencode(args) if args else "")


def targets(bench_shopper_email, per_page=20):
    """Look up what to load in the database bound to portal.db.db."""
    from portal.models import Order, Return, User

    shopper = User.get(User.email == bench_shopper_email)
    total = Return.select().count()
    deep = max(1, int(-(-total // per_page) * 0.9))
    # A shopper who calls about a return: search by their email, across every status.
    caller = (
        Return.select(Return.email)
        .where(Return.email.startswith("shopper"))
        .order_by(Return.id)
        .offset(total // 3)
        .limit(1)
        .scalar()
    )
    # Part of a reference, as typed from a parcel label: a substring search.
    fragment = (
        Return.select(Return.reference).order_by(Return.id).offset(total // 2).limit(1).scalar()
    )[4:]
    # A received return waiting for inspection and refund: the page an agent works on most.
    waiting = Return.select().where(Return.status == "received")
    detail = (
        waiting.select(Return.reference)
        .order_by(Return.id)
        .offset(waiting.count() // 2)
        .limit(1)
        .scalar()
    )
    # The bench shopper's latest return, for its tracking page.
    tracking = (
        Return.select(Return.reference)
        .where(Return.requested_by == shopper.id)
        .order_by(Return.created_at.desc())
        .limit(1)
        .scalar()
    )
    # The bench shopper's latest order that has a return.
    order = (
        Order.select(Order.number)
        .join(Return)
        .where(Order.customer == shopper.id)
        .group_by(Order.id, Order.number)
        .order_by(fn.MAX(Order.placed_at).desc())
        .limit(1)
        .scalar()
    ) or Order.select(Order.number).where(Order.customer == shopper.id).limit(1).scalar()
    return [
        Target("queue_open", MANAGER, _queue(), "queue: open tab, page 1", True),
        Target(
            "queue_status", MANAGER, _queue(status="received"), "queue: filtered by status", True
        ),
        Target(
            "queue_search",
            MANAGER,
            _queue(status="all", q=caller),
            "queue: searched (email, all statuses)",
            True,
        ),
        Target(
            "queue_search_ref",
            MANAGER,
            _queue(status="all", q=fragment),
            "queue: searched (part of a reference)",
            True,
        ),
        Target(
            "queue_deep",
            MANAGER,
            _queue(status="all", page=deep),
            f"queue: deep page ({deep:,})",
            True,
        ),
        Target("return_detail", MANAGER, f"{QUEUE}/{detail}", "merchant return detail"),
        Target("order_history", SHOPPER, "/orders", "shopper order history"),
        Target("order_page", SHOPPER, f"/orders/{order}", "shopper order page"),
        Target("return_tracking", SHOPPER, f"/returns/{tracking}", "shopper return tracking"),
    ]
