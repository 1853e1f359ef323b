"""Orders in: PUT /orders/{number} creates or updates an order with the import's rules
(portal.importer.save_order, the same function the CLI import uses); GET reads it back with
each line's returnable units and why not (portal.returns.staff_orders, as the staff page)."""

from peewee import IntegrityError

from portal.api import bp
from portal.api.problems import ApiProblem
from portal.api.schemas import OrderIn, OrderOut
from portal.api.spec import operation
from portal.importer import RecordError, parse_order, save_order
from portal.returns import staff_orders

NUMBER = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9._-]+$"}


def _valid_number(number):
    return 0 < len(number) <= 100 and all((c.isascii() and c.isalnum()) or c in "._-"
                                          for c in number)  # fmt: skip


def order_out(number):
    found = staff_orders.order_for_staff(number)
    if found is None:
        raise ApiProblem(404, f"There is no order {number}.")
    order = found.order
    return OrderOut(
        number=order.number,
        email=order.email,
        currency=order.currency,
        status=order.status,
        placed_at=order.placed_at,
        delivered_at=order.delivered_at,
        shipping_total=order.shipping_total,
        version=order.version,
        lines=[
            {
                "id": sl.line.id,
                "sku": sl.line.sku,
                "title": sl.line.title,
                "quantity": sl.line.quantity,
                "unit_price": sl.line.unit_price,
                "unit_tax": sl.line.unit_tax,
                "final_sale": sl.line.final_sale,
                "bundle_id": sl.line.bundle_id,
                "invoice": sl.line.invoice_number,
                "returned": sl.returned,
                "in_returns": sl.in_return,
                "returnable": sl.returnable,
                "eligible": sl.returnable > 0,
                "reason": sl.eligibility.verdict.code,
                "reason_text": sl.eligibility.verdict.reason,
                "last_day": sl.eligibility.verdict.last_day,
            }
            for sl in found.lines
        ],
        payments=[{"id": p.id, "method": p.method, "gateway": p.gateway,
                   "reference": p.reference, "amount": p.amount} for p in found.payments],
        invoices=[{"number": i.number, "kind": i.kind} for i in found.invoices],
        returns=[rma.reference for rma, _ in found.returns],
    )  # fmt: skip


@operation(bp, "PUT", "/orders/<number>", summary="Create or update an order", tag="orders",
           scopes=("orders:write",), body=OrderIn, response=OrderOut, errors=(400, 409),
           path_params={"number": NUMBER},
           description="The order as the shop has it now, with the import's rules "
                       "(docs/import-format.md). An order with returns can't lose lines or "
                       "units that returns hold.")  # fmt: skip
def put_order(number, body):
    if not _valid_number(number):
        raise ApiProblem(404, "An order number has letters, digits, '.', '_' and '-' only.")
    record = body.model_dump(mode="json", exclude_none=True)
    record["number"] = number
    try:
        saved = save_order(parse_order(record), replace=True)
    except RecordError as exc:
        raise ApiProblem(422, f"{exc} Nothing was changed.",
                         [{"field": "(body)", "message": str(exc)}]) from None  # fmt: skip
    except IntegrityError:  # another PUT of the same order (or invoice) won the race
        raise ApiProblem(409, f"Order {number} was changed by another request at the same "
                              "time. Nothing was changed: send it again.") from None  # fmt: skip
    return order_out(saved.number)


@operation(bp, "GET", "/orders/<number>", summary="Read an order with returnable units",
           tag="orders", scopes=("orders:write", "returns:read"), response=OrderOut,
           path_params={"number": NUMBER})  # fmt: skip
def get_order(number):
    return order_out(number)
