"""Store data at scale for the benchmarks: orders, lines, payments, returns in every status.

Rows are built in Python and written with batched `insert_many` inside `db.atomic()`, one
transaction per chunk of orders; ids are assigned here, so no row is ever read back. The schema
comes from portal.migrate.upgrade() on an empty database, as in production.

    .venv/bin/python bench/datagen.py sqlite:////tmp/bench.db --orders 100000 --returns 50000

Deterministic for a given seed. Every account's password is BENCH_PASSWORD.
"""

import argparse
import datetime
import json
import random
import sys
import time
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from peewee import AutoField, DateTimeField  # noqa: E402

from portal.db import JSONField, db  # noqa: E402
from portal.seed import CATALOG, REASONS  # noqa: E402

BENCH_PASSWORD = "bench-pass-1234"
BENCH_SHOPPER = "bench-shopper@example.com"
BENCH_SHOPPER_ORDERS = 36  # two pages of order history
BENCH_MANAGER = "bench-manager@example.com"
STAFF = [("agent", 20), ("manager", 5), ("admin", 1)]
CHUNK_ORDERS = 10_000
GUEST_SHARE = 0.1
DOUBLE_RETURN_SHARE = 0.1  # of returned orders, how many have two returns (different lines)
SPAN_DAYS = 730

# Shares of returns by status (every status appears).
STATUS_WEIGHTS = {
    "requested": 10,
    "approved": 10,
    "partially_received": 5,
    "received": 10,
    "completed": 45,
    "rejected": 5,
    "cancelled": 10,
    "on_hold": 5,
}
# How many orders a shopper with an account has placed: (count range, weight).
ORDERS_PER_SHOPPER = [((1, 1), 45), ((2, 2), 20), ((3, 3), 12), ((4, 6), 13), ((7, 15), 8),
                      ((16, 60), 2)]  # fmt: skip
RESTOCKING_BPS = 1000
RETURN_SHIPPING_FEE = 595
WINDOW_DAYS = 30
REJECTION = "Outside the return window"
LEDGER_PREFIX = {"card": "card", "gift_card": "gift", "store_credit": "credit"}


def _fields(model, names):
    return [getattr(model, name) for name in names]


class Writer:
    """Rows per table, written in batches inside the caller's transaction.

    Two ways to write a batch: peewee's `insert_many` (one multi-row INSERT per batch, sized to
    the driver's parameter limit), or the same INSERT compiled once per table and the batch sent
    through the driver's own batch API (`executemany` on SQLite, `execute_values` on PostgreSQL),
    with every value converted by its field's `db_value` exactly as insert_many does. The second
    is the default: peewee builds SQL for each value at ~10 µs, which dominates at millions of rows.

    When one table's batch is full every table is flushed, parents first (ALL_MODELS order), so
    foreign keys always point at rows already written."""

    BATCH_ROWS = 5_000

    def __init__(self, postgres, use_insert_many=False):
        from portal.models import ALL_MODELS

        self.rank = {model: n for n, model in enumerate(ALL_MODELS)}
        self.postgres = postgres
        self.use_insert_many = use_insert_many
        self.max_params = 60_000 if postgres else 32_000
        self.rows = {}
        self.statements = {}
        self.counts = {}

    def add(self, model, names, row):
        key = (model, tuple(names))
        bucket = self.rows.setdefault(key, [])
        bucket.append(row)
        full = (
            len(bucket) * len(names) >= self.max_params
            if self.use_insert_many
            else (len(bucket) >= self.BATCH_ROWS)
        )
        if full:
            self.flush()

    def _statement(self, model, names):
        fields = [model._meta.fields[name] for name in names]
        # Columns left out get their model default, as insert_many does.
        defaults = [
            f for f in model._meta.sorted_fields if f.name not in names and f.default is not None
        ]
        columns = ", ".join(f'"{field.column_name}"' for field in fields + defaults)
        head = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES '
        count = len(fields) + len(defaults)
        values = "%s" if self.postgres else "(" + ", ".join("?" * count) + ")"
        extra = tuple(
            field.db_value(field.default() if callable(field.default) else field.default)
            for field in defaults
        )
        # Values here already have their column's type; only JSON needs encoding (and, on
        # SQLite, datetimes become the text peewee itself stores).
        json_columns = [n for n, field in enumerate(fields) if isinstance(field, JSONField)]
        time_columns = (
            []
            if self.postgres
            else [n for n, field in enumerate(fields) if isinstance(field, DateTimeField)]
        )
        return head + values, (json_columns, time_columns), extra

    def _flush(self, key):
        model, names = key
        rows = self.rows[key]
        if not rows:
            return
        if self.use_insert_many:
            model.insert_many(rows, fields=_fields(model, names)).execute()
        else:
            if key not in self.statements:
                self.statements[key] = self._statement(model, names)
            sql, (json_columns, time_columns), extra = self.statements[key]
            values = rows
            if json_columns or time_columns:
                values = []
                for row in rows:
                    row = list(row)
                    for n in json_columns:
                        row[n] = json.dumps(row[n], sort_keys=True)
                    for n in time_columns:
                        if row[n] is not None:
                            row[n] = str(row[n])
                    values.append(row)
            if extra:
                values = [tuple(row) + extra for row in values]
            cursor = db.cursor()
            if self.postgres:
                from psycopg2.extras import execute_values

                execute_values(cursor, sql, values, page_size=1000)
            else:
                cursor.executemany(sql, values)
        self.counts[model.__name__] = self.counts.get(model.__name__, 0) + len(rows)
        self.rows[key] = []

    def flush(self):
        for key in sorted(self.rows, key=lambda key: self.rank[key[0]]):
            self._flush(key)


def _line_counts(rng, orders):
    """Lines per order, 1-5 with mean exactly 3 (300,000 lines for 100,000 orders)."""
    counts = bytearray(rng.choices([1, 2, 3, 4, 5], [15, 20, 30, 20, 15], k=orders))
    diff = 3 * orders - sum(counts)
    while diff:
        i = rng.randrange(orders)
        if diff > 0 and counts[i] < 5:
            counts[i] += 1
            diff -= 1
        elif diff < 0 and counts[i] > 1:
            counts[i] -= 1
            diff += 1
    return counts


def _customers(rng, orders, first_shopper_id):
    """Which shopper placed each order (0: a guest). Returns (array of ids, number of shoppers).

    The first shopper is the bench shopper, with BENCH_SHOPPER_ORDERS orders."""
    account_orders = orders - int(orders * GUEST_SHARE)
    ranges, weights = zip(*ORDERS_PER_SHOPPER, strict=True)
    counts = [min(BENCH_SHOPPER_ORDERS, account_orders)]
    total = counts[0]
    while total < account_orders:
        low, high = rng.choices(ranges, weights)[0]
        n = min(rng.randint(low, high), account_orders - total)
        counts.append(n)
        total += n
    owners = array("i", [0]) * orders
    slots = list(range(orders))
    rng.shuffle(slots)
    pos = 0
    for offset, n in enumerate(counts):
        for slot in slots[pos : pos + n]:
            owners[slot] = first_shopper_id + offset
        pos += n
    return owners, len(counts)


def _returns_per_order(rng, orders, returns, line_counts, deliverable):
    """0, 1 or 2 returns per order, `returns` in total, only on orders that were delivered."""
    per = bytearray(orders)
    candidates = [i for i in range(orders) if deliverable(i)]
    doubles = int(returns * DOUBLE_RETURN_SHARE / 2)
    singles = returns - 2 * doubles
    if singles + doubles > len(candidates):
        raise ValueError(f"{returns} returns don't fit on {len(candidates)} delivered orders")
    chosen = rng.sample(candidates, singles + doubles)
    placed_doubles = 0
    for i in chosen:
        if placed_doubles < doubles and line_counts[i] >= 2:
            per[i] = 2
            placed_doubles += 1
        else:
            per[i] = 1
    # Orders that could not take a double (one line) left some returns over: add singles.
    missing = returns - sum(per)
    spare = (i for i in candidates if per[i] == 0)
    for _ in range(missing):
        per[next(spare)] = 1
    return per


class Store:
    """Builds the whole store in chunks; see generate()."""

    def __init__(self, orders, returns, seed, today):
        from werkzeug.security import generate_password_hash

        from portal.models.accounts import DEFAULT_HASH_METHOD

        self.rng = random.Random(seed)
        self.orders = orders
        self.returns = returns
        self.today = today.replace(microsecond=0)
        self.start = self.today - datetime.timedelta(days=SPAN_DAYS)
        self.password_hash = generate_password_hash(BENCH_PASSWORD, method=DEFAULT_HASH_METHOD)
        self.staff_ids = []
        self.first_shopper_id = 1 + sum(n for _, n in STAFF) + 1  # after staff and the manager
        self.line_counts = _line_counts(self.rng, orders)
        self.owners, self.shoppers = _customers(self.rng, orders, self.first_shopper_id)
        self.per_order = _returns_per_order(
            self.rng, orders, returns, self.line_counts, self._deliverable
        )
        self.reasons = {}  # id -> merchant fault
        self.ids = dict.fromkeys(
            ["line", "payment", "invoice", "rma", "rline", "event", "refund", "credit",
             "ledger", "outbox"], 0)  # fmt: skip
        self.seq_by_year = {}
        self.status_names = list(STATUS_WEIGHTS)
        self.status_weights = list(STATUS_WEIGHTS.values())

    # -- time and status of the i-th order ---------------------------------------------------
    def placed_at(self, i):
        step = SPAN_DAYS * 86400 / self.orders
        return self.start + datetime.timedelta(seconds=int(i * step))

    def _deliverable(self, i):
        age = (self.today - self.placed_at(i)).days
        # The last 30 days of orders are mostly still in the return window; older ones too.
        return age > 8 and i % 97 != 0  # ~1% of orders were cancelled

    def email(self, user_id):
        if user_id == self.first_shopper_id:
            return BENCH_SHOPPER
        return f"shopper{user_id}@example.com"

    # -- fixed rows ----------------------------------------------------------------------------
    def write_fixed(self, w):
        from portal.models import InventoryLocation, ReturnPolicy, ReturnReason, User

        names = ["id", "email", "password_hash", "name", "role", "active", "created_at"]
        uid = 0
        for role, n in STAFF:
            for k in range(1, n + 1):
                uid += 1
                w.add(User, names, (uid, f"{role}{k}@bench.example", self.password_hash,
                                    f"{role.title()} {k}", role, True, self.start))  # fmt: skip
                self.staff_ids.append(uid)
        uid += 1
        w.add(User, names, (uid, BENCH_MANAGER, self.password_hash, "Bench Manager", "manager",
                            True, self.start))  # fmt: skip
        self.staff_ids.append(uid)
        assert uid + 1 == self.first_shopper_id
        for offset in range(self.shoppers):
            uid = self.first_shopper_id + offset
            w.add(User, names, (uid, self.email(uid), self.password_hash, f"Shopper {uid}",
                                "shopper", True, self.start))  # fmt: skip
        w.add(ReturnPolicy, ["id", "window_days", "restocking_fee_bps", "return_shipping_fee"],
              (1, WINDOW_DAYS, RESTOCKING_BPS, RETURN_SHIPPING_FEE))  # fmt: skip
        by_code = {}
        for position, (code, label, parent, fault, note, photo) in enumerate(REASONS, 1):
            by_code[code] = position
            w.add(ReturnReason, ["id", "code", "label", "parent", "merchant_fault",
                                 "requires_note", "requires_photo", "position"],
                  (position, code, label, by_code.get(parent), fault, note, photo, position))  # fmt: skip
            if code != "fit":  # a parent: shoppers pick one of its children
                self.reasons[position] = fault
        self.reason_ids = list(self.reasons)
        self.reason_codes = {position: code for code, position in by_code.items()}
        for k, (code, name, kind) in enumerate(
            [("MAIN", "Main warehouse", "sellable"), ("QUARANTINE", "Damaged goods", "quarantine")],
            1,
        ):
            w.add(InventoryLocation, ["id", "code", "name", "kind"], (k, code, name, kind))
        w.flush()

    # -- one chunk of orders and everything hanging off them ------------------------------------
    ORDER_FIELDS = ["id", "number", "customer", "email", "currency", "placed_at", "delivered_at",
                    "shipping_total", "status", "version", "created_at"]  # fmt: skip
    LINE_FIELDS = ["id", "order", "sku", "title", "variant", "quantity", "unit_price", "unit_tax",
                   "final_sale", "category", "invoice_number"]  # fmt: skip
    PAYMENT_FIELDS = ["id", "order", "method", "gateway", "reference", "amount", "position",
                      "created_at"]  # fmt: skip
    INVOICE_FIELDS = ["id", "order", "number", "kind", "issued_at"]

    def write_orders(self, w, lo, hi):
        from portal.models import Invoice, Order, OrderLine, Payment

        rng = self.rng
        for i in range(lo, hi):
            order_id = i + 1
            number = str(100_000_000 + order_id)
            placed = self.placed_at(i) + datetime.timedelta(minutes=rng.randint(0, 59))
            owner = self.owners[i]
            email = self.email(owner) if owner else f"guest{order_id}@example.net"
            age = (self.today - placed).days
            if i % 97 == 0 and age > 8:
                status, delivered = "cancelled", None
            elif age > 6:
                status = "delivered"
                delivered = placed + datetime.timedelta(days=rng.randint(2, 6))
            elif age > 2:
                status, delivered = "shipped", None
            else:
                status, delivered = "placed", None
            invoice = f"INV-{number}" if status in ("delivered", "shipped") else None
            lines = []
            for product in rng.sample(CATALOG, self.line_counts[i]):
                sku, title, category, price, variants, final_sale = product
                variant = {
                    k: rng.choice(v.split()) if " " in v else rng.choice(list(v))
                    for k, v in variants.items()
                }
                paid = price - price * rng.choice([0, 0, 0, 10, 20]) // 100
                self.ids["line"] += 1
                line = (self.ids["line"], order_id,
                        sku + ("-" + "-".join(variant.values()) if variant else ""), title,
                        variant, rng.choice([1, 1, 1, 2, 3]), paid, paid * 2 // 10, final_sale,
                        category, invoice)  # fmt: skip
                lines.append(line)
            shipping = rng.choice([0, 495, 795])
            total = shipping + sum(ln[5] * (ln[6] + ln[7]) for ln in lines)
            w.add(Order, self.ORDER_FIELDS, (order_id, number, owner or None, email, "USD", placed,
                                             delivered, shipping, status, 1, placed))  # fmt: skip
            for line in lines:
                w.add(OrderLine, self.LINE_FIELDS, line)
            payments = [("card", f"ch_{number}", total)]
            if total > 3000 and rng.random() < 0.25:
                gift = rng.choice([1000, 2000, 2500])
                payments = [("card", f"ch_{number}", total - gift),
                            ("gift_card", f"gc_{number}", gift)]  # fmt: skip
            payment_rows = []
            for position, (method, ref, amount) in enumerate(payments):
                self.ids["payment"] += 1
                payment_rows.append((self.ids["payment"], order_id, method, "ledger", ref, amount,
                                     position, placed))  # fmt: skip
                w.add(Payment, self.PAYMENT_FIELDS, payment_rows[-1])
            if invoice:
                self.ids["invoice"] += 1
                w.add(Invoice, self.INVOICE_FIELDS, (self.ids["invoice"], order_id, invoice, "sale",
                                                     placed))  # fmt: skip
            if self.per_order[i]:
                self.write_returns(w, i, order_id, owner, email, delivered, lines, payment_rows)

    # -- returns -------------------------------------------------------------------------------
    RETURN_FIELDS = ["id", "reference", "order", "requested_by", "email", "status", "held_from",
                     "resolution", "responsible", "shopper_note", "rejection_reason",
                     "created_at", "updated_at", "approved_at", "completed_at", "currency",
                     "policy_window_days", "policy_restocking_fee_bps",
                     "policy_return_shipping_fee", "version"]  # fmt: skip
    RLINE_FIELDS = ["id", "rma", "order_line", "quantity", "reason", "note", "received_quantity",
                    "damaged_quantity", "restocked_quantity", "quarantined_quantity",
                    "inspection", "refund_amount"]  # fmt: skip
    EVENT_FIELDS = ["id", "rma", "actor", "kind", "payload", "internal", "created_at"]
    REFUND_FIELDS = ["id", "rma", "payment", "method", "amount", "currency", "status",
                     "idempotency_key", "gateway_reference", "attempts", "breakdown",
                     "created_by", "approved_by", "created_at", "processing_started_at",
                     "settled_at"]  # fmt: skip
    OUTBOX_FIELDS = ["id", "kind", "payload", "dedupe_key", "status", "attempts", "rma",
                     "created_at", "available_at", "sent_at"]  # fmt: skip

    def write_returns(self, w, i, order_id, owner, email, delivered, lines, payments):
        """One or two returns on an order, in a random status, with the lines, timeline events,
        refunds (ledger and outbox rows) and emails the portal itself would have written."""
        from portal.models import Return, ReturnEvent, ReturnLine

        rng = self.rng
        count = self.per_order[i]
        picked = rng.sample(lines, count) if count == 2 else None
        for n in range(count):
            if picked:
                rlines = [picked[n]]
            else:
                rlines = rng.sample(lines, 2 if len(lines) >= 2 and rng.random() < 0.3 else 1)
            status = rng.choices(self.status_names, self.status_weights)[0]
            held_from = None
            if status == "on_hold":
                held_from = rng.choice(["requested", "approved", "partially_received", "received"])
            flow = held_from or status
            wants = [rng.randint(1, line[5]) for line in rlines]
            if flow == "partially_received":
                if len(rlines) == 1 and rlines[0][5] >= 2:
                    wants[0] = rng.randint(2, rlines[0][5])
                elif len(rlines) == 1:  # a single unit can't be partly received
                    flow = "received"
                    status, held_from = ("on_hold", flow) if held_from else (flow, None)
            created = min(
                delivered
                + datetime.timedelta(days=rng.randint(1, 28), minutes=rng.randint(0, 900)),
                self.today - datetime.timedelta(hours=1),
            )
            self.ids["rma"] += 1
            rma = {
                "id": self.ids["rma"], "order_id": order_id, "email": email,
                "customer": owner or None, "staff": rng.choice(self.staff_ids),
                "resolution": rng.choices(["refund", "store_credit", "exchange"], [80, 15, 5])[0],
                "clock": created,
            }  # fmt: skip
            seq = self.seq_by_year[created.year] = self.seq_by_year.get(created.year, 0) + 1
            rma["reference"] = f"RMA-{created.year}-{seq:05d}"
            rows = self._return_lines(rma, rlines, wants, flow)
            events = self._events(w, rma, rlines, rows, flow, status, held_from, payments)
            w.add(Return, self.RETURN_FIELDS, (
                rma["id"], rma["reference"], order_id, rma["customer"], email, status, held_from,
                rma["resolution"], None if flow == "requested" else rma["staff"],
                "" if rng.random() < 0.7 else "Please pick it up from the front desk.",
                REJECTION if flow == "rejected" else "", created, rma["clock"],
                rma.get("approved_at"), rma.get("completed_at"), "USD", WINDOW_DAYS,
                RESTOCKING_BPS, RETURN_SHIPPING_FEE, len(events)))  # fmt: skip
            for row in rows:
                w.add(ReturnLine, self.RLINE_FIELDS, row)
            for actor, kind, payload, internal, at in events:
                self.ids["event"] += 1
                w.add(ReturnEvent, self.EVENT_FIELDS,
                      (self.ids["event"], rma["id"], actor, kind, payload, internal, at))  # fmt: skip
            self._email(w, rma, "return_requested", f"return:{rma['id']}:email:return_requested",
                        {}, created)  # fmt: skip

    def _later(self, rma, low, high):
        """Move the return's clock on by low..high hours; returns the new time."""
        step = datetime.timedelta(hours=self.rng.randint(low, high))
        rma["clock"] = min(rma["clock"] + step, self.today)
        return rma["clock"]

    def _return_lines(self, rma, rlines, wants, flow):
        rng = self.rng
        received_any = flow in ("partially_received", "received", "completed")
        rows = []
        for position, (line, want) in enumerate(zip(rlines, wants, strict=True)):
            reason = rng.choice(self.reason_ids)
            received = damaged = restocked = quarantined = 0
            inspection, refund_amount = "pending", None
            if received_any:
                received = want
                if flow == "partially_received" and position == 0:
                    received = want - 1 if len(rlines) == 1 else 0
                damaged = 1 if received and rng.random() < 0.08 else 0
            if flow == "completed":
                if received and rng.random() < 0.05:
                    inspection = "rejected"
                else:
                    inspection = "accepted"
                    restocked, quarantined = received - damaged, damaged
            elif flow == "received" and rng.random() < 0.5:
                inspection = "accepted"
            self.ids["rline"] += 1
            rows.append([self.ids["rline"], rma["id"], line[0], want, reason,
                         "" if rng.random() < 0.8 else "The colour is not as pictured.",
                         received, damaged, restocked, quarantined, inspection,
                         refund_amount])  # fmt: skip
        return rows

    def _events(self, w, rma, rlines, rows, flow, status, held_from, payments):
        """The timeline, with the payloads portal/returns writes for each kind of event."""
        staff, customer = rma["staff"], rma["customer"]
        events = [(customer, "requested", {
            "resolution": rma["resolution"], "by": "shopper" if customer else "guest",
            "lines": [{"order_line_id": line[0], "sku": line[2], "quantity": row[3],
                       "reason": self.reason_codes[row[4]]} for line, row in zip(rlines, rows, strict=True)],
        }, False, self._later(rma, 0, 0))]  # fmt: skip
        if flow == "rejected":
            events.append((staff, "rejected", {"reason": REJECTION}, False,
                           self._later(rma, 2, 48)))  # fmt: skip
        elif flow == "cancelled":
            from_status = "requested"
            if self.rng.random() < 0.5:
                rma["approved_at"] = self._later(rma, 2, 48)
                events.append((staff, "approved", {}, False, rma["approved_at"]))
                from_status = "approved"
            events.append((customer, "cancelled", {"by": "shopper", "from_status": from_status},
                           False, self._later(rma, 2, 72)))  # fmt: skip
        elif flow != "requested":
            rma["approved_at"] = self._later(rma, 2, 48)
            events.append((staff, "approved", {}, False, rma["approved_at"]))
        if flow in ("partially_received", "received", "completed"):
            summary = [{"line_id": row[0], "title": line[3], "sku": line[2], "received": row[6],
                        "damaged": row[7], "missing": 0, "wrong_item": 0, "note": "",
                        "inspection": row[10] if flow != "completed" else "pending"}
                       for line, row in zip(rlines, rows, strict=True) if row[6]]  # fmt: skip
            events.append((staff, "received", {
                "lines": summary, "units": sum(r[6] for r in rows),
                "damaged": sum(r[7] for r in rows), "status": flow if flow != "completed"
                else "received"}, False, self._later(rma, 24, 240)))  # fmt: skip
        if self.rng.random() < 0.15:
            events.append((staff, "note", {"text": "Called the shopper about the parcel."},
                           True, self._later(rma, 1, 24)))  # fmt: skip
        if flow == "completed":
            events.append((staff, "inspected", {"lines": [
                {"line_id": row[0], "title": line[3], "decision": row[10],
                 "note": "" if row[10] == "accepted" else "Worn and washed."}
                for line, row in zip(rlines, rows, strict=True)]}, False, self._later(rma, 1, 24)))  # fmt: skip
            events.append((staff, "restocked", {
                "lines": [{"line_id": row[0], "title": line[3], "sku": line[2],
                           "restocked": row[8], "quarantined": row[9]}
                          for line, row in zip(rlines, rows, strict=True) if row[10] == "accepted"],
                "location": "MAIN", "quarantine": "QUARANTINE" if any(r[9] for r in rows)
                else None}, False, self._later(rma, 1, 8)))  # fmt: skip
            if rma["resolution"] != "exchange":
                events.extend(self._refunds(w, rma, rlines, rows, payments))
            rma["completed_at"] = self._later(rma, 1, 24)
            events.append((staff, "completed", {}, False, rma["completed_at"]))
        if status == "on_hold":
            events.append((staff, "on_hold", {"held_from": held_from, "note": ""}, False,
                           self._later(rma, 1, 48)))  # fmt: skip
        return events

    def _refunds(self, w, rma, rlines, rows, payments):
        """A settled refund batch: Refund, LedgerTransaction, outbox rows and StoreCredit."""
        from portal.models import LedgerTransaction, OutboxMessage, Refund, StoreCredit

        line_amounts, restocking, items, fault = {}, 0, 0, False
        for line, row in zip(rlines, rows, strict=True):
            fault = fault or self.reasons[row[4]]
            if row[10] != "accepted":
                continue
            amount = row[6] * (line[6] + line[7])
            fee = 0 if self.reasons[row[4]] else amount * RESTOCKING_BPS // 10000
            items += amount
            restocking += fee
            line_amounts[str(row[0])] = amount - fee
            row[11] = amount - fee  # ReturnLine.refund_amount
        ship = 0 if fault or items - restocking <= RETURN_SHIPPING_FEE else RETURN_SHIPPING_FEE
        total = items - restocking - ship
        if total <= 0:
            return []
        store_credit = rma["resolution"] == "store_credit"
        parts, left = [], total
        for pay in [] if store_credit else payments:
            part = min(left, pay[5])
            if part > 0:
                parts.append((pay[0], pay[2], part))
                left -= part
        if store_credit:
            parts = [(None, "store_credit", total)]
        breakdown = {"items": items, "restocking": restocking, "return_shipping": ship,
                     "shipping": 0, "additional": 0, "subtotal": total, "total": total,
                     "capped_by": None, "lines": list(line_amounts.values())}  # fmt: skip
        batch = f"{self.rng.getrandbits(128):032x}"
        line_units = {str(r[0]): r[6] for r in rows if r[10] == "accepted"}
        stored = {**breakdown, "batch": batch, "line_units": line_units,
                  "line_amounts": line_amounts, "overrides": {}, "additional_note": "",
                  "store_credit": store_credit}  # fmt: skip
        created, settled_events = [], []
        settle = self._later(rma, 1, 48)
        for payment_id, method, amount in parts:
            self.ids["refund"] += 1
            refund_id = self.ids["refund"]
            key = f"{self.rng.getrandbits(128):032x}"
            reference = f"ldg_{LEDGER_PREFIX[method]}_{key[:20]}"
            created.append({"id": refund_id, "method": method, "amount": amount,
                            "status": "pending"})  # fmt: skip
            w.add(Refund, self.REFUND_FIELDS, (
                refund_id, rma["id"], payment_id, method, amount, "USD", "succeeded", key,
                reference, 1, {**stored, "allocation": amount}, rma["staff"], None, settle,
                settle, settle))  # fmt: skip
            self.ids["ledger"] += 1
            w.add(LedgerTransaction, ["id", "idempotency_key", "order", "payment", "method",
                                      "amount", "currency", "reference", "created_at"],
                  (self.ids["ledger"], key, rma["order_id"], payment_id, method, amount, "USD",
                   reference, settle))  # fmt: skip
            self.ids["outbox"] += 1
            w.add(OutboxMessage, self.OUTBOX_FIELDS, (
                self.ids["outbox"], "refund", {"refund_id": refund_id}, f"refund:{key}", "sent", 1,
                rma["id"], settle, settle, settle))  # fmt: skip
            context = {"amount": amount, "currency": "USD", "method": method,
                       "reference": reference}  # fmt: skip
            self._email(w, rma, "refund_sent", f"refund:{refund_id}:email:refund_sent", context,
                        settle)  # fmt: skip
            if store_credit:
                self.ids["credit"] += 1
                w.add(StoreCredit, ["id", "customer", "email", "currency", "amount", "refund",
                                    "note", "created_at"],
                      (self.ids["credit"], rma["customer"], rma["email"], "USD", amount, refund_id,
                       f"Refund for return {rma['reference']}", settle))  # fmt: skip
            settled_events.append((None, "refund_succeeded", {
                "refund_id": refund_id, "amount": amount, "currency": "USD", "method": method,
                "reference": reference, "attempts": 1}, False, settle))  # fmt: skip
        refund_created = (rma["staff"], "refund_created", {
            "batch": batch, "total": total, "currency": "USD", "breakdown": breakdown,
            "line_units": line_units, "line_amounts": line_amounts, "overrides": {},
            "additional": 0, "additional_note": "", "refund_shipping": False,
            "store_credit": store_credit, "awaiting_approval": False, "capped_by": None,
            "return_invoice_number": None, "refunds": created}, False, settle)  # fmt: skip
        return [refund_created, *settled_events]

    def _email(self, w, rma, template, dedupe_key, context, at):
        from portal.models import OutboxMessage

        self.ids["outbox"] += 1
        payload = {"template": template, "to": rma["email"], "context": context,
                   "rma_id": rma["id"]}  # fmt: skip
        w.add(OutboxMessage, self.OUTBOX_FIELDS, (self.ids["outbox"], "email", payload, dedupe_key,
                                                  "sent", 1, rma["id"], at, at, at))  # fmt: skip

    def write_counters(self, w):
        from portal.models import Counter

        for k, (year, seq) in enumerate(sorted(self.seq_by_year.items()), 1):
            w.add(Counter, ["id", "name", "value"], (k, f"rma:{year}", seq))
        w.flush()


def _reset_sequences():
    """PostgreSQL: serial sequences continue after the ids written here."""
    from portal.db import is_postgres
    from portal.models import ALL_MODELS

    if not is_postgres():
        return
    for model in ALL_MODELS:
        if not isinstance(model._meta.primary_key, AutoField):
            continue  # e.g. return_status_count, keyed by status
        table = model._meta.table_name
        db.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
        )


def generate(
    orders, returns, seed=2026, today=None, progress=None, use_insert_many=False, analyze=True
):
    """Fill the (empty, migrated) database bound to portal.db.db. Returns a summary dict."""
    from portal.models import User

    if User.select().exists():
        raise RuntimeError("the bench database is not empty")
    started, cpu_started = time.perf_counter(), time.process_time()
    store = Store(orders, returns, seed, today or datetime.datetime(2026, 5, 20, 12, 0))
    w = Writer(_postgres(), use_insert_many)
    with db.atomic():
        store.write_fixed(w)
    for lo in range(0, orders, CHUNK_ORDERS):
        with db.atomic():
            store.write_orders(w, lo, min(orders, lo + CHUNK_ORDERS))
            w.flush()
        if progress:
            progress(min(orders, lo + CHUNK_ORDERS), orders)
    with db.atomic():
        store.write_counters(w)
        _reset_sequences()
    load_seconds = time.perf_counter() - started
    load_cpu = time.process_time() - cpu_started
    analyze_started = time.perf_counter()
    # Planner statistics, as a database in service has them: PostgreSQL's autovacuum analyzes
    # after a bulk load; on SQLite `PRAGMA optimize` (or ANALYZE) is the operator's job. Without
    # them SQLite picks the status index for the queue and sorts every open return.
    if analyze:
        db.execute_sql("ANALYZE")
    return {
        "orders": orders,
        "returns": returns,
        "rows": w.counts,
        "shoppers": store.shoppers,
        "load_seconds": round(load_seconds, 2),
        "load_cpu_seconds": round(load_cpu, 2),  # this process only (not the DB server)
        "rows_per_second": round(sum(w.counts.values()) / load_seconds),
        "writer": "insert_many" if use_insert_many else "executemany",
        "analyze_seconds": round(time.perf_counter() - analyze_started, 2),
        "bench_shopper": BENCH_SHOPPER,
        "bench_manager": BENCH_MANAGER,
        "password": BENCH_PASSWORD,
    }


def _postgres():
    from portal.db import is_postgres

    return is_postgres()


def open_database(url):
    """Bind portal.db.db to `url` and create the schema with the project's migrations."""
    from portal import migrate
    from portal.db import connect

    db.initialize(connect(url))
    db.connect(reuse_if_open=True)
    if not _postgres():
        # This connection only: a big page cache (index pages of a large load stay in memory)
        # and no fsync per commit. The served app connects with its own settings.
        db.execute_sql("PRAGMA cache_size = -524288")
        db.execute_sql("PRAGMA synchronous = OFF")
    migrate.upgrade()
    return db


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="sqlite:////abs/path.db or postgresql://... (empty database)")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--returns", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--insert-many",
        action="store_true",
        help="write batches with peewee's insert_many instead of the driver's batch API",
    )
    parser.add_argument("--no-analyze", action="store_true", help="leave out ANALYZE at the end")
    args = parser.parse_args(argv)
    open_database(args.url)

    def progress(done, total):
        print(f"  {done:,}/{total:,} orders", file=sys.stderr, flush=True)

    summary = generate(
        args.orders,
        args.returns,
        args.seed,
        progress=progress,
        use_insert_many=args.insert_many,
        analyze=not args.no_analyze,
    )
    db.close()
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
