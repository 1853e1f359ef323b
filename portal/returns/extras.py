"""Extra lines on a return (InvenTree's extra line items): non-stock amounts staff add, a charge
to the shopper (a repair fee: negative) or a credit (goodwill, a return label they paid for:
positive), each with a description. The next refund settles them as its own breakdown row,
capped like everything else; the shopper sees them on their tracking page. Managers only."""

from portal.db import db
from portal.models import ReturnExtraLine, ReturnPolicy
from portal.returns.errors import DomainError, InvalidTransition, NotFound
from portal.returns.states import CANCELLED, REJECTED
from portal.returns.transitions import change, check_version, ensure_editable, load, require_staff

MANAGERS = "Only managers can add or remove extra lines."
LIMIT = 100_000_00  # cents: a typo guard, far above any real fee or credit


def _check_open(current, policy):
    ensure_editable(current, policy)
    if current.status in (REJECTED, CANCELLED):
        raise InvalidTransition("This return is closed; it takes no extra lines.")


def add_extra_line(rma, actor, description, amount, version=None):
    """Add `amount` signed cents (+ credit, - charge) with `description`."""
    require_staff(actor, "manager", MANAGERS)
    description = " ".join((description or "").split())
    if not description:
        raise DomainError("Describe the extra line, e.g. “Repair fee” or “Goodwill credit”.")
    if len(description) > 200:
        raise DomainError("Keep the description under 200 characters.")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise DomainError("Enter the extra line's amount, more than zero.")
    if abs(amount) > LIMIT:
        raise DomainError("That amount is too large for an extra line.")
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        _check_open(current, ReturnPolicy.current())
        line = ReturnExtraLine.create(rma=current, description=description, amount=amount,
                                      created_by=actor)  # fmt: skip
        change(current, "extra_line_added", actor, extra_line_id=line.id,
               description=description, amount=amount, currency=current.currency)  # fmt: skip
        return line


def remove_extra_line(rma, actor, extra_line_id, version=None):
    """Remove an extra line no refund has settled yet."""
    require_staff(actor, "manager", MANAGERS)
    with db.atomic():
        current = load(rma)
        check_version(current, version)
        _check_open(current, ReturnPolicy.current())
        line = ReturnExtraLine.get_or_none(
            (ReturnExtraLine.id == extra_line_id) & (ReturnExtraLine.rma == current.id)
        )
        if line is None:
            raise NotFound("That extra line is not part of this return.")
        if line.refund_batch:
            raise DomainError(f"“{line.description}” was settled by a refund; it stays.")
        line.delete_instance()
        change(current, "extra_line_removed", actor, extra_line_id=line.id,
               description=line.description, amount=line.amount,
               currency=current.currency)  # fmt: skip
        return current


def extra_lines_query(rma_id):
    return (
        ReturnExtraLine.select().where(ReturnExtraLine.rma == rma_id).order_by(ReturnExtraLine.id)
    )


def extra_lines(rma_id):
    return list(extra_lines_query(rma_id))
