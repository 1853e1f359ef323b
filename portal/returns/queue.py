"""The returns queue: status tabs with counts, filters, sorting and one page of rows, in a fixed
number of queries whatever the number of rows. No Flask here: views pass the parsed filters."""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field

from peewee import JOIN, Expression, Table, Tuple, Value, fn

from portal.db import db, is_postgres
from portal.models import (
    CacheGeneration,
    Order,
    Refund,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnStatusCount,
    User,
)
from portal.pagination import Page
from portal.prebuilt import prebuilt_select
from portal.returns import queue_anchors, refund_states, states

OPEN = (*states.ACTIVE, states.ON_HOLD)
TABS = (
    ("open", "Open"),
    (states.REQUESTED, "Requested"),
    (states.APPROVED, "Approved"),
    (states.PARTIALLY_RECEIVED, "Partially received"),
    (states.RECEIVED, "Received"),
    (states.ON_HOLD, "On hold"),
    ("claims", "Claims"),
    ("refund_failed", "Refund failed"),
    (states.COMPLETED, "Completed"),
    (states.REJECTED, "Rejected"),
    (states.CANCELLED, "Cancelled"),
    ("all", "All"),
)
TAB_NAMES = {name for name, _ in TABS}
SORTS = {
    "newest": ("Newest first", lambda: (Return.created_at.desc(), Return.id.desc())),
    "oldest": ("Oldest first", lambda: (Return.created_at.asc(), Return.id.asc())),
    "updated": ("Recently updated", lambda: (Return.updated_at.desc(), Return.id.desc())),
    "reference": ("Reference", lambda: (Return.reference.asc(), Return.id.asc())),
    "order": ("Order number", lambda: (Order.number.asc(), Return.id.asc())),
    "status": (
        "Status",
        lambda: (Return.status.asc(), Return.created_at.desc(), Return.id.desc()),
    ),
    "email": ("Shopper email", lambda: (Return.email.asc(), Return.id.asc())),
}
DEFAULT_SORT = "newest"
FULL_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}")


@dataclass
class Filters:
    status: str = "open"
    q: str = ""
    reason: int | None = None
    responsible: str = ""  # "", "me", "none" or a staff id
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    user_id: int | None = None  # who "me" is
    found: dict = field(default_factory=dict, repr=False, compare=False)  # search matches
    # The returns' write counter, read with the tab counts (SQLite; migration 0019): the
    # deep pages' anchors are kept under it (portal/returns/queue_anchors.py).
    writes: int | None = field(default=None, repr=False, compare=False)

    def args(self, **changes):
        """Query-string arguments for a link that keeps these filters (defaults left out)."""
        values = {
            "status": self.status,
            "q": self.q,
            "reason": self.reason,
            "responsible": self.responsible,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "sort": self.sort,
            "page": self.page,
        }
        values.update(changes)
        defaults = {"status": "open", "sort": DEFAULT_SORT, "page": 1}
        return {k: v for k, v in values.items() if v not in (None, "") and defaults.get(k) != v}


def _reason_ids(reason_id):
    """The reason and its descendants (nested reasons), in one query."""
    pairs = list(ReturnReason.select(ReturnReason.id, ReturnReason.parent).tuples())
    children = defaultdict(list)
    for rid, parent in pairs:
        children[parent].append(rid)
    found, todo = set(), [reason_id]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        todo.extend(children.get(current, ()))
    return found


SUFFIX = Table("return_suffix", ("suffix", "rma_id"))
AFTER_ALL = "\U0010ffff"  # sorts after any character: term <= suffix < term + AFTER_ALL
LISTED_UP_TO = 1000  # matches looked up once and passed as a list; more stay a subquery


def _matching(term):
    """A query for the ids of the returns whose reference, order number or either email
    contains `term`: on SQLite (terms of three characters or more), the returns with a suffix
    that starts with it (migration 0020), one range of an index whatever the store's size; on
    PostgreSQL, its trigram indexes (migration 0005), a table at a time."""
    if not is_postgres() and len(term) >= 3:
        return _suffix_matches(term, term + AFTER_ALL)
    orders = Order.select(Order.id).where(Order.number.contains(term) | Order.email.contains(term))
    by_return = Return.select(Return.id).where(
        Return.reference.contains(term) | Return.email.contains(term)
    )
    return by_return | Return.select(Return.id).where(Return.order.in_(orders))


def _suffix_matches(term, end):
    return SUFFIX.select(SUFFIX.rma_id).where((SUFFIX.suffix >= term) & (SUFFIX.suffix < end))


def _search_ids(f, term):
    """The matches of a search, looked up once per Filters (the tab counts and the page each
    need them): a list of ids when there are few, as for a parcel's reference or a shopper's
    name, else the query itself."""
    if term not in f.found:
        if not is_postgres() and len(term) >= 3:  # SQLite's suffixes: prebuilt
            ids = [rma_id for (rma_id,) in prebuilt_select(
                "queue-search", _first_suffix_matches, term=term, end=term + AFTER_ALL)]  # fmt: skip
        else:
            ids = [rma_id for (rma_id,) in db.execute(_matching(term).limit(LISTED_UP_TO + 1))]
        f.found[term] = ids if len(ids) <= LISTED_UP_TO else _matching(term)
    return f.found[term]


def _first_suffix_matches(term, end):
    return _suffix_matches(term, end).distinct().limit(LISTED_UP_TO + 1).tuples()


def _filter_shape(f):
    """(shape, values) of every filter but the status tab: the shape says which conditions
    the statement has (and how many ids a list holds), the values fill in their parameters,
    so a statement's SQL can be built once per shape (portal.prebuilt.prebuilt_select), unless a
    search has too many matches for a list (see prebuildable())."""
    shape, values = [], {}
    q = f.q.strip() if f.q else ""
    if q and FULL_EMAIL.fullmatch(q):
        shape.append("email")
        values["email"] = q.lower()
    elif q:
        found = _search_ids(f, q.lower())
        if isinstance(found, list):
            shape.append(("ids", len(found)))
            values.update({f"id{n}": rma_id for n, rma_id in enumerate(found)})
        else:  # too many matches for a list: their query is the subquery (never prebuilt)
            shape.append("subquery")
            values["subquery"] = found
    else:
        shape.append(None)
    if f.reason:
        ids = sorted(_reason_ids(f.reason))
        shape.append(("reasons", len(ids)))
        values.update({f"reason{n}": reason_id for n, reason_id in enumerate(ids)})
    else:
        shape.append(None)
    if f.responsible == "me":
        shape.append("user")
        values["responsible"] = f.user_id
    elif f.responsible == "none":
        shape.append("none")
    elif f.responsible.isdigit():
        shape.append("user")
        values["responsible"] = int(f.responsible)
    else:
        shape.append(None)
    shape.append(bool(f.date_from))
    if f.date_from:
        values["from"] = datetime.datetime.combine(f.date_from, datetime.time())
    shape.append(bool(f.date_to))
    if f.date_to:
        end = datetime.datetime.combine(f.date_to + datetime.timedelta(days=1), datetime.time())
        values["to"] = end
    return tuple(shape), values


def prebuildable(shape):
    """Whether statements of this filter shape may be prebuilt (no subquery of matches)."""
    return shape[0] != "subquery"


def _filtered(query, f, shape=None, values=None):
    """Every filter but the status tab: of `f`, or of a shape and its values (stand-ins
    while a prebuilt statement is built)."""
    if shape is None:
        shape, values = _filter_shape(f)
    q, reasons, responsible, date_from, date_to = shape
    if q == "email":
        # A whole address: the indexed equality finds that shopper's returns without a scan.
        term = values["email"]
        orders = Order.select(Order.id).where(Order.email == term)
        by_email = Return.select(Return.id).where(Return.email == term)
        # A union, not an OR: each half runs on its own index (PostgreSQL would scan for an OR).
        query = query.where(
            Return.id.in_(by_email | Return.select(Return.id).where(Return.order.in_(orders)))
        )
    elif q == "subquery":
        query = query.where(Return.id.in_(values["subquery"]))
    elif q is not None:
        query = query.where(Return.id.in_([values[f"id{n}"] for n in range(q[1])]))
    if reasons is not None:
        ids = [values[f"reason{n}"] for n in range(reasons[1])]
        query = query.where(
            Return.id.in_(ReturnLine.select(ReturnLine.rma).where(ReturnLine.reason.in_(ids)))
        )
    if responsible == "user":
        query = query.where(Return.responsible == values["responsible"])
    elif responsible == "none":
        query = query.where(Return.responsible.is_null())
    if date_from:
        query = query.where(Return.created_at >= values["from"])
    if date_to:
        query = query.where(Return.created_at < values["to"])
    return query


def matching(f, query=None):
    """`query` (default: every return) narrowed to the filters and the status tab of `f`: the
    returns the queue lists, for an export."""
    return _by_status(_filtered(query if query is not None else Return.select(), f), f.status)


def _failed_refund_returns():
    return Refund.select(Refund.rma).where(Refund.status == refund_states.FAILED)


def _open_claims():
    return (Return.kind == "claim") & Return.status.in_(OPEN)


def _by_status(query, status):
    if status == "open":
        return query.where(Return.status.in_(OPEN))
    if status == "claims":
        return query.where(_open_claims())
    if status == "refund_failed":
        return query.where(Return.id.in_(_failed_refund_returns()))
    if status == "all":
        return query
    return query.where(Return.status == status)


def _unfiltered(f):
    return not (f.q or f.reason or f.responsible or f.date_from or f.date_to)


# The two counts that are not per status, beside the per-status rows of tab_counts()'s query,
# and the returns' write counter (SQLite) read with them.
_FAILED, _CLAIMS, _WRITES = "+refund_failed", "+claims", "+writes"
RETURN_WRITES = 2  # the cache_generation row of migration 0019


def _rows(name, shape, values, build, prebuilt=True):
    """The rows of `build(shape, values)`: its SQL built once per (name, shape) and database
    (portal.prebuilt.prebuilt_select), or every time (a shape with a subquery of matches)."""
    if prebuilt:
        return prebuilt_select((name, shape), lambda **v: build(shape, v), **values)
    return list(build(shape, values))


def tab_counts(f):
    """{tab: count} under the current filters, in one query: the per-status counts (without
    filters read from return_status_count, kept by triggers, whatever the store's size; with
    them, the matching returns counted, a search through its own indexes) and, in the same
    UNION ALL, the returns whose refund failed and the open claims."""
    shape, values = _filter_shape(f)
    shape_ = (shape, _unfiltered(f))
    rows = dict(_rows("queue-counts", shape_, values, _counts_query, prebuildable(shape)))
    f.writes = rows.pop(_WRITES, None)
    extra = {name: rows.pop(name, 0) for name in (_FAILED, _CLAIMS)}
    counts = {name: rows.get(name, 0) for name, _ in TABS}
    counts["open"] = sum(rows.get(s, 0) for s in OPEN)
    counts["all"] = sum(rows.values())
    counts["refund_failed"] = extra[_FAILED]
    counts["claims"] = extra[_CLAIMS]
    return counts


def _counts_query(shape, values):
    filters, unfiltered = shape
    base = _filtered(Return.select(), None, filters, values)
    if unfiltered:
        by_status = ReturnStatusCount.select(ReturnStatusCount.status, ReturnStatusCount.count)
    else:
        by_status = base.select(Return.status, fn.COUNT(Return.id)).group_by(Return.status)
    failed = base.where(Return.id.in_(_failed_refund_returns()))
    claims = base.where(_open_claims())  # the (kind, status) index
    query = (
        by_status
        + failed.select(Value(_FAILED), fn.COUNT(Return.id))
        + claims.select(Value(_CLAIMS), fn.COUNT(Return.id))
    )
    if not is_postgres():
        writes = CacheGeneration.id == RETURN_WRITES
        query = query + CacheGeneration.select(Value(_WRITES), CacheGeneration.n).where(writes)
    return query.tuples()


@dataclass(slots=True)
class Row:
    """One queue row: the plain values the row shows (no model objects), read as tuples."""

    id: int
    reference: str
    order_id: int
    email: str
    status: str
    kind: str
    resolution: str
    currency: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    estimated_refund: int | None
    responsible_id: int | None
    order_number: str
    responsible_name: str | None = None  # the responsible user's name, else their email
    lines: list = field(default_factory=list)  # (requested, received, reason label)
    refund_statuses: set = field(default_factory=set)
    refunds: int | None = None  # cents of the refunds prepared (not declined), once there are

    @property
    def refund_amount(self):
        """(cents, "actual") once refunds exist, else (the request's estimate, "estimated")."""
        if self.refunds is not None:
            return self.refunds, "actual"
        return self.estimated_refund, "estimated"

    def age_days(self, at):
        return max((at - self.created_at).days, 0)

    @property
    def requested(self):
        return sum(q for q, _, _ in self.lines)

    @property
    def received(self):
        return sum(r for _, r, _ in self.lines)

    @property
    def reasons(self):
        return sorted({label for _, _, label in self.lines})

    @property
    def refund_failed(self):
        return refund_states.FAILED in self.refund_statuses

    @property
    def awaiting_approval(self):
        return refund_states.AWAITING_APPROVAL in self.refund_statuses


def _reversed(orderings):
    return [o.node.asc() if o.direction == "DESC" else o.node.desc() for o in orderings]


def _page_window(number, per_page, total):
    """(backwards, limit, offset) of one page. A page in the back half is read from the other
    end of the list (every sort ends on a unique column), so the last pages, where the oldest
    returns wait, cost what the first ones do."""
    offset = (number - 1) * per_page
    from_end = total - offset - per_page
    if from_end >= offset or total <= per_page:
        return False, per_page, offset
    return True, per_page + min(from_end, 0), max(from_end, 0)


def _ordered(query, filters, status, sort, backwards, values, anchored=False):
    """`query` narrowed to the filters and the tab, in the list's order (read from the other
    end when `backwards`), from its anchor on when `anchored` (values a0, a1, ...: the sort key
    of the anchor's row, which the list's order compares as one row value); and the order."""
    query = query.join(Order) if sort == "order" else query
    query = _by_status(_filtered(query, None, filters, values), status)
    orderings = SORTS[sort][1]()
    ordered = _reversed(orderings) if backwards else orderings
    if anchored:
        key = Tuple(*(o.node for o in ordered))
        anchor = Tuple(*(values[f"a{n}"] for n in range(len(ordered))))
        op = ">=" if ordered[0].direction == "ASC" else "<="
        query = query.where(Expression(key, op, anchor))
    return query.order_by(*ordered), orderings


def _page_ids(shape, values):
    """The ids of one page (a subquery) and the page's order. Only the columns the filters and
    the sort need are read, so skipping rows (OFFSET) steps through index entries, not joined
    rows; a deep page starts from its anchor (portal/returns/queue_anchors.py)."""
    filters, status, sort, backwards, anchored = shape
    query, orderings = _ordered(
        Return.select(Return.id), filters, status, sort, backwards, values, anchored
    )
    return query.limit(values["limit"]).offset(values["offset"]), orderings


def _anchor_query(shape, values):
    """The sort key of the row `offset` rows into the list (from an anchor when `anchored`)."""
    filters, status, sort, backwards, anchored = shape
    columns = [o.node for o in SORTS[sort][1]()]
    query, _ = _ordered(Return.select(*columns), filters, status, sort, backwards, values, anchored)
    return query.limit(1).offset(values["offset"]).tuples()


def _anchorable(filters, status, sort):
    """Whether a list's anchors stay exact under the returns' write counter: its rows and
    their order depend on the return table alone (no search, so never a subquery of matches;
    no reason, no refund status, no order number) and its sort runs one way (a row value
    compares it)."""
    q, reasons, _, _, _ = filters
    orderings = SORTS[sort][1]()
    return (
        q is None
        and reasons is None
        and status != "refund_failed"
        and all(o.node.model is Return for o in orderings)
        and len({o.direction for o in orderings}) == 1
    )


def _anchored(filters, values, status, sort, backwards, writes, offset):
    """(anchor values {a0: ..., a1: ...} or {}, offset from the anchor) of one page."""
    if writes is None or not _anchorable(filters, status, sort):
        return {}, offset
    list_key = (filters, tuple(sorted(values.items())), status, sort, backwards)

    def read(start, skip):
        shape = (filters, status, sort, backwards, start is not None)
        given = {**values, **_anchor_values(start), "offset": skip}
        found = _rows("queue-anchor", shape, given, _anchor_query)
        return found[0] if found else None

    anchor, offset = queue_anchors.start_of(list_key, writes, offset, read)
    return _anchor_values(anchor), offset


def _anchor_values(anchor):
    return {f"a{n}": value for n, value in enumerate(anchor)} if anchor is not None else {}


# The columns a queue row shows (templates/merchant/_queue_results.html) and sorts by: a page
# reads only these, not the whole return, order and responsible user.
SHOWN = (Return.id, Return.reference, Return.order, Return.email, Return.status, Return.kind,
         Return.resolution, Return.currency, Return.created_at, Return.updated_at,
         Return.estimated_refund, Return.responsible)  # fmt: skip


def _page_query(shape, values):
    ids, orderings = _page_ids(shape, values)
    responsible = User.alias()
    return (
        Return.select(*SHOWN, Order.number, responsible.id, responsible.name, responsible.email)
        .join(Order)
        .switch(Return)
        .join(responsible, JOIN.LEFT_OUTER, on=(Return.responsible == responsible.id))
        .where(Return.id.in_(ids))  # the page's ids, in the same statement
        .order_by(*orderings)
        .tuples()
    )


def _lines_query(shape, values):
    ids = [values[f"id{n}"] for n in range(shape[1])]
    return (
        ReturnLine.select(
            ReturnLine.rma, ReturnLine.quantity, ReturnLine.received_quantity, ReturnReason.label
        )
        .join(ReturnReason)
        .where(ReturnLine.rma.in_(ids))
        .tuples()
    )


def _refunds_query(shape, values):
    ids = [values[f"id{n}"] for n in range(shape[1])]
    return (
        Refund.select(Refund.rma, Refund.status, Refund.amount)
        .where(Refund.rma.in_(ids) & (Refund.status != refund_states.CANCELLED))
        .tuples()
    )


def page_of(f, per_page, total=None):
    """One page of rows (with order and responsible), their lines and refunds. `total` is the
    tab's count from tab_counts() when the caller has it; otherwise it is counted here. Each
    statement's SQL is built once per shape of the filters (portal.prebuilt.prebuilt_select)."""
    if total is None:
        total = _by_status(_filtered(Return.select(), f), f.status).count()
    pages = max(1, -(-total // per_page))
    number = min(f.page, pages)
    filters, values = _filter_shape(f)
    backwards, limit, offset = _page_window(number, per_page, total)
    anchor, offset = _anchored(filters, values, f.status, f.sort, backwards, f.writes, offset)
    shape = (filters, f.status, f.sort, backwards, bool(anchor))
    values = {**values, **anchor, "limit": limit, "offset": offset}
    found = _rows("queue-page", shape, values, _page_query, prebuildable(filters))
    rows = [Row(*row[:-3], (row[-2] or row[-1]) if row[-3] is not None else None) for row in found]
    if rows:
        by_id = {row.id: row for row in rows}
        ids = {f"id{n}": row.id for n, row in enumerate(rows)}
        shape = ("page", len(rows))
        for rma_id, qty, received, label in _rows("queue-lines", shape, ids, _lines_query):
            by_id[rma_id].lines.append((qty, received, label))
        for rma_id, status, amount in _rows("queue-refunds", shape, ids, _refunds_query):
            row = by_id[rma_id]
            row.refund_statuses.add(status)
            row.refunds = (row.refunds or 0) + amount
    return Page(items=rows, number=number, per_page=per_page, total=total)
