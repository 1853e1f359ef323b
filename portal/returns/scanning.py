"""Scan to receive: a keyboard-wedge scanner (or a phone's camera) reads the reference from the
return label's QR code or barcode, then each unit's SKU barcode. Every scan is checked here:
an unknown or wrong code is said in words and changes nothing; the scans so far are counted per
line, never beyond what is still expected. Recording them is receiving.receive(), the same
receipt as the form on the return's page (undamaged units, accepted on receipt)."""

from dataclasses import dataclass

from peewee import fn

from portal.models import Return
from portal.returns import receiving, states
from portal.returns.errors import DomainError, InvalidTransition, NotFound
from portal.returns.facts import lines_of

MAX_CODE = 100


def clean_code(code):
    """What a scanner typed, without spaces and control characters around it."""
    return "".join(ch for ch in str(code or "") if ch.isprintable()).strip()[:MAX_CODE]


def find_return(code):
    """The return a scanned reference names, ready to receive; a DomainError says why not."""
    code = clean_code(code)
    if not code:
        raise DomainError("Scan or type a return's reference, like RMA-2026-00001.")
    rma = Return.get_or_none(Return.reference == code)
    if rma is None:
        rma = Return.select().where(fn.UPPER(Return.reference) == code.upper()).first()
    if rma is None:
        raise NotFound(f"No return has the reference “{code}”. Check the label and scan again.")
    if rma.status == states.REQUESTED:
        raise InvalidTransition(f"{rma.reference} is not approved yet: a manager must approve "
                                "it before its parcel is received.")  # fmt: skip
    if rma.status not in states.RECEIVING:
        label = states.LABELS.get(rma.status, rma.status).lower()
        raise InvalidTransition(f"{rma.reference} is {label}: nothing more is expected in it.")
    return rma


@dataclass
class ScanLine:
    line: object  # ReturnLine with its order line
    expected: int  # units still to receive
    scanned: int = 0

    @property
    def sku(self):
        return self.line.order_line.sku

    @property
    def done(self):
        return self.scanned >= self.expected


@dataclass
class Session:
    rma: object
    lines: list  # ScanLine, the return's lines still expecting units
    scans: list  # line ids, one per unit scanned

    @property
    def units(self):
        return len(self.scans)

    @property
    def expected(self):
        return sum(sl.expected for sl in self.lines)

    @property
    def complete(self):
        return bool(self.lines) and all(sl.done for sl in self.lines)

    @property
    def encoded(self):
        return " ".join(str(i) for i in self.scans)


def session(rma, scans=""):
    """The scan session of `rma` with the scans so far (the page carries them as line ids);
    ids that are not an expected line of this return, or beyond its units, are dropped."""
    lines = [ScanLine(ln, ln.quantity - ln.received_quantity) for ln in lines_of(rma.id)
             if ln.quantity > ln.received_quantity]  # fmt: skip
    by_id = {sl.line.id: sl for sl in lines}
    kept = []
    for raw in str(scans or "").split():
        line = by_id.get(int(raw)) if raw.isdigit() else None
        if line is not None and not line.done:
            line.scanned += 1
            kept.append(line.line.id)
    return Session(rma, lines, kept)


def scan(current, code):
    """Count one unit for the SKU scanned. Raises a DomainError (nothing counted) for a code
    that is no SKU of this return, or a SKU whose units are all scanned already."""
    code = clean_code(code)
    if not code:
        raise DomainError("Scan an item's barcode (its SKU).")
    matching = [sl for sl in current.lines if sl.sku.upper() == code.upper()]
    if not matching:
        raise NotFound(f"“{code}” is not an item of {current.rma.reference}. Put it aside: "
                       "nothing was counted.")  # fmt: skip
    line = next((sl for sl in matching if not sl.done), None)
    if line is None:
        expected = sum(sl.expected for sl in matching)
        raise DomainError(f"All {expected} unit(s) of {code} are scanned already: this one is "
                          "extra. Nothing was counted.")  # fmt: skip
    line.scanned += 1
    current.scans.append(line.line.id)
    return line


def record(current, actor, version=None):
    """Receive the scanned units (undamaged, accepted on receipt) in one receipt."""
    if not current.scans:
        raise DomainError("Scan at least one item before recording the receipt.")
    receipts = {sl.line.id: (sl.scanned, 0) for sl in current.lines if sl.scanned}
    return receiving.receive(current.rma, actor, receipts, version)
