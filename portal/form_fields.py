"""Form fields shared by the shopper and staff forms."""

import re

from wtforms.fields import IntegerField

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
