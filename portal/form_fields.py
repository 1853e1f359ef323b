"""Form fields shared by the shopper and staff forms."""

import re

from wtforms.fields import IntegerField

from portal.returns.requests import Selection

WHOLE = re.compile(r"[+-]?\d{1,6}")


class WholeNumberField(IntegerField):
    """A count: blank means 0; anything but a whole number is refused in words. Signs parse, so
    a NumberRange validator can say "can't be negative" rather than "not a number"."""

    noun = "items"

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = str(valuelist[0]).strip()
        if raw == "":
            self.data = 0
            return
        if not WHOLE.fullmatch(raw):
            self.data = None
            raise ValueError(f"Enter a whole number of {self.noun}, like 1 or 2.")
        self.data = int(raw)


def line_selections(entries, photos=None):
    """Domain Selections from a FieldList of line sub-forms (order_line_id, quantity, reason,
    note), for the lines the form could read; photos: {order_line_id: (PhotoRef, ...)}."""
    photos = photos or {}
    result = []
    for entry in entries:
        line = entry.form
        if line.order_line_id.data is None or line.quantity.data is None:
            continue
        reason_id = _id_or_text(line.reason.data)
        replacement = getattr(line, "replacement", None)
        replacement_id = _id_or_text(replacement.data) if replacement is not None else None
        result.append(Selection(line.order_line_id.data, line.quantity.data, reason_id,
                                line.note.data or "", photos.get(line.order_line_id.data, ()),
                                replacement_id))  # fmt: skip
    return result


def _id_or_text(value):
    """A posted id: an int, None when blank, else the text (the domain says it isn't one)."""
    value = (value or "").strip()
    return int(value) if value.isdigit() else (value or None)
