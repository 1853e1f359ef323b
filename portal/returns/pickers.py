"""The pickers the staff pages offer (active staff, return reasons, active inventory
locations) and the return policy, cached per process and per database.

Each cached value remembers the cache generation it was read at: a counter that triggers on
those tables raise in the writing transaction (migration 0016), whatever wrote the row. A page
passes the generation it read with the signed-in user (portal.returns.account_security
loads both in one query), so checking the cache costs no query, and a change made anywhere (a
settings page, the CLI, another process) shows on the next request. The signed-in user
themself is never cached: their role or deactivation takes effect on their next request.

The cached rows are shared by every request of the process: read them, never change them."""

import threading

from portal.db import db
from portal.models import CacheGeneration, InventoryLocation, ReturnPolicy, ReturnReason, User
from portal.returns.api_keys import not_service_account

_lock = threading.Lock()


def generation_query():
    """The counter as a subquery (a column of the user-loading query)."""
    return CacheGeneration.select(CacheGeneration.n).where(CacheGeneration.id == 1)


def current_generation():
    """The counter, read on its own (when the page has no user-loaded one)."""
    return generation_query().scalar() or 0


def _cached(name, load, generation):
    if generation is None:
        generation = current_generation()
    database = db.obj
    cache = database.__dict__.setdefault("_pickers", {})  # a new database, a new cache
    hit = cache.get(name)
    if hit is not None and hit[0] == generation:
        return hit[1]
    value = load()
    with _lock:
        cache[name] = (generation, value)
    return value


def _staff():
    return tuple(
        User.select(User.id, User.name, User.email)
        .where((User.role != "shopper") & (User.active == True) & not_service_account())  # noqa: E712
        .order_by(User.name, User.email)
    )


def _reasons():
    return tuple(ReturnReason.select().order_by(ReturnReason.position, ReturnReason.label))


def _locations():
    return tuple(
        InventoryLocation.select()
        .where(InventoryLocation.active == True)  # noqa: E712
        .order_by(InventoryLocation.id)
    )


def active_staff(generation=None):
    """Staff who can be made responsible for a return, by name."""
    return list(_cached("staff", _staff, generation))


def reasons(generation=None):
    """Every return reason (active or not), in the store's order."""
    return list(_cached("reasons", _reasons, generation))


def active_locations(generation=None):
    return list(_cached("locations", _locations, generation))


def _policy():
    return ReturnPolicy.get_or_none(ReturnPolicy.id == 1) or ReturnPolicy()


def return_policy(generation=None):
    """The store's return policy (its defaults when no row was saved yet): shared by every
    request of the process, so never change it; read it locked to change it
    (portal.returns.settings)."""
    return _cached("policy", _policy, generation)
