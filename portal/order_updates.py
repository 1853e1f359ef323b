"""Bringing an order the portal already holds up to date with the shop's record (the API's PUT;
importer.save_order calls this inside its transaction).

Lines are matched by SKU (the n-th line with a SKU to the n-th, a bundle's parts within their
bundle), payments by reference and sale invoices by number. What returns depend on never moves
under them: a line in a return can't be removed or repriced, its quantity can't go below the
units returns hold, a payment with refunds can't be removed or lowered below what they hold,
and the currency of an order with returns is fixed. Lines the portal made itself (an exchange's
replacements) are kept as they are."""

from collections import Counter, defaultdict

from peewee import fn

from portal.models import Invoice, Order, OrderLine, Payment, Refund, Return, ReturnLine
from portal.returns.quantities import taken_by_line
from portal.returns.refund_states import HOLDS_MONEY

LINE_FIELDS = ("title", "quantity", "unit_price", "unit_tax", "final_sale", "category",
               "variant", "invoice_number", "product_variant")  # fmt: skip


def _error(message):
    from portal.importer import RecordError

    return RecordError(message)


def _keys(lines, parent_key=""):
    """[(key, line)] with key (parent key, sku, occurrence): the n-th line of a SKU."""
    seen = Counter()
    out = []
    for line in lines:
        seen[line["sku"]] += 1
        out.append(((parent_key, line["sku"], seen[line["sku"]]), line))
    return out


def _record_keys(record):
    keyed = {}
    for key, line in _keys(record["lines"]):
        keyed[key] = (line, None)
        for part_key, part in _keys(line.get("components") or [], key):
            keyed[part_key] = (part, key)
    return keyed


def _stored_keys(order):
    rows = list(
        OrderLine.select()
        .where((OrderLine.order == order.id) & OrderLine.replaces.is_null())
        .order_by(OrderLine.id)
    )
    parts = defaultdict(list)
    for row in rows:
        if row.bundle_id:
            parts[row.bundle_id].append(row)
    keyed = {}
    seen = Counter()
    for row in rows:
        if row.bundle_id:
            continue
        seen[row.sku] += 1
        key = ("", row.sku, seen[row.sku])
        keyed[key] = row
        inner = Counter()
        for part in parts[row.id]:
            inner[part.sku] += 1
            keyed[(key, part.sku, inner[part.sku])] = part
    return keyed


def _update_lines(order, record, variants, line_row, where):
    wanted = _record_keys(record)
    stored = _stored_keys(order)
    ids = [row.id for row in stored.values()]
    in_returns = set(
        ReturnLine.select(ReturnLine.order_line).where(ReturnLine.order_line.in_(ids)).tuples()
    )
    in_returns = {line_id for (line_id,) in in_returns}
    taken = taken_by_line(ids)
    for key, row in stored.items():
        if key not in wanted and row.id in in_returns:
            raise _error(f"{where}: line {row.sku} ({row.title}) is in a return, so it can't be "
                         "removed from the order.")  # fmt: skip
    for key, (line, _) in wanted.items():
        row = stored.get(key)
        if row is None:
            continue
        held = taken.get(row.id, 0)
        if line["quantity"] < held:
            raise _error(f"{where}: {held} unit(s) of {row.sku} are in returns, so its quantity "
                         f"can't go below {held} (got {line['quantity']}).")  # fmt: skip
        if row.id in in_returns and (line["unit_price"], line["unit_tax"]) != (
            row.unit_price,
            row.unit_tax,
        ):
            raise _error(f"{where}: line {row.sku} is in a return, so its price and tax can't "
                         "change.")  # fmt: skip
    gone = [row.id for key, row in stored.items() if key not in wanted]
    if gone:
        OrderLine.delete().where(OrderLine.id.in_(gone)).execute()
    made = {}
    for key, (line, parent) in wanted.items():
        values = line_row(line, variants)
        row = stored.get(key)
        if row is not None:
            OrderLine.update(**{k: values[k] for k in LINE_FIELDS if k in values}).where(
                OrderLine.id == row.id
            ).execute()
            made[key] = row
            continue
        bundle = made.get(parent) if parent else None
        made[key] = OrderLine.create(order=order, bundle=bundle, **values)


def _update_payments(order, record, where):
    stored = {p.reference: p for p in Payment.select().where(Payment.order == order.id)}
    held = dict(
        Refund.select(Refund.payment, fn.SUM(Refund.amount))
        .where((Refund.payment.in_([p.id for p in stored.values()])) &
               Refund.status.in_(HOLDS_MONEY))
        .group_by(Refund.payment)
        .tuples()
    )  # fmt: skip
    with_refunds = {
        payment_id
        for (payment_id,) in Refund.select(Refund.payment)
        .where(Refund.payment.in_([p.id for p in stored.values()]))
        .tuples()
    }
    wanted = {p["reference"]: p for p in record["payments"]}
    for reference, payment in stored.items():
        if reference not in wanted and payment.id in with_refunds:
            raise _error(f"{where}: payment {reference} has refunds, so it can't be removed.")
        if reference in wanted and wanted[reference]["amount"] < held.get(payment.id, 0):
            raise _error(f"{where}: payment {reference} has {held[payment.id]} cents refunded "
                         "or being refunded, so its amount can't go below that.")  # fmt: skip
    for reference, payment in stored.items():
        if reference not in wanted:
            payment.delete_instance()
    for reference, values in wanted.items():
        payment = stored.get(reference)
        if payment is None:
            Payment.create(order=order, **values)
        else:
            Payment.update(**values).where(Payment.id == payment.id).execute()


def _update_invoices(order, record):
    wanted = {inv["number"]: inv for inv in record["invoices"]}
    sales = {i.number: i for i in Invoice.select().where((Invoice.order == order.id) &
                                                         (Invoice.kind == "sale"))}  # fmt: skip
    for number, invoice in sales.items():
        if number not in wanted:
            invoice.delete_instance()
    for number, values in wanted.items():
        if number in sales:
            Invoice.update(issued_at=values["issued_at"]).where(
                Invoice.id == sales[number].id
            ).execute()
        else:
            Invoice.create(order=order, **values)


def update_order(order, record, fields, variants, line_row):
    """Apply `record` (importer.parse_order) to the stored `order`, inside the caller's
    transaction. Raises the importer's RecordError (the caller's transaction then writes
    nothing)."""
    where = f"order {record['number']}"
    has_returns = Return.select().where(Return.order == order.id).exists()
    if has_returns and record["currency"] != order.currency:
        raise _error(f"{where}: it has returns, so its currency can't change.")
    _update_lines(order, record, variants, line_row, where)
    _update_payments(order, record, where)
    _update_invoices(order, record)
    Order.update(**fields).where(Order.id == order.id).execute()
    return Order.get_by_id(order.id)
