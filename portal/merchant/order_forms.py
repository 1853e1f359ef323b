"""The order search (a GET form) and the form staff fill in to create a return for a shopper, on an order's page: one sub-form per
line staff may return (quantity, reason, note), the resolution, a note and, for managers, the
reason for overriding a closed return window.

The form checks what it can read (whole numbers, a reason and a resolution among those offered,
lengths, who may override); the domain (portal.returns.requests) checks everything else, and
again inside its transaction. A value posted outside its options is a field error
(ValidationError), never a 500."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form
from wtforms.fields import (
    BooleanField,
    FieldList,
    FormField,
    IntegerField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from portal.form_fields import WholeNumberField, line_selections
from portal.returns.requests import NOTE_MAX

RESOLUTIONS = {"refund": _l("Refund to the original payment"), "store_credit": _l("Store credit")}
OVERRIDE_MAX = 500
ONLY_MANAGERS = _l("Only a manager can take a return after its window closed.")


class OrderSearchForm(FlaskForm):
    """GET: read from the query string, no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Order number, email or name"),
        validators=[Optional(), Length(max=100, message=_l("Search for at most 100 characters."))],
    )


class UnitsField(WholeNumberField):
    noun = "units"


class ReasonField(StringField):
    """A reason's id, one of `offered` (set per request: the leaf reasons staff may choose).
    Blank means none was chosen, which only matters for a line with units (the domain says so).
    """

    offered = frozenset()

    def pre_validate(self, form):
        value = (self.data or "").strip()
        if value and value not in self.offered:
            raise ValidationError(_l("Choose a reason from the list."))


class ResolutionField(RadioField):
    def pre_validate(self, form):
        # ValidationError, not ValueError: only the former becomes a field error (a tampered
        # value is a 422 with this message, never a 500).
        if self.data not in RESOLUTIONS:
            raise ValidationError(_l("Choose a refund to the original payment or store credit."))


class StaffLineForm(Form):
    order_line_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    quantity = UnitsField(
        _l("How many to return"),
        default=0,
        validators=[NumberRange(min=0, message=_l("The number of units can't be negative."))],
    )
    reason = ReasonField(_l("Reason"))
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=NOTE_MAX, message=f"Keep notes under {NOTE_MAX} characters.")],
    )
    # A variant instead of money (an exchange, a claim's replacement): checked by the domain.
    replacement = StringField(_l("Instead of a refund"))


class StaffReturnForm(FlaskForm):
    """A staff-created return. `reasons`: the ids staff may choose; `manager`: whether the
    signed-in staff member may override a closed return window."""

    lines = FieldList(FormField(StaffLineForm), max_entries=200)
    resolution = ResolutionField(
        _l("Refund to"),
        choices=[SelectChoice(value, label) for value, label in RESOLUTIONS.items()],
        default="refund",
    )
    note = TextAreaField(
        _l("What the shopper told you (optional)"),
        validators=[
            Length(max=2 * NOTE_MAX, message=f"Keep the note under {2 * NOTE_MAX} characters.")
        ],  # fmt: skip
    )
    # The domain checks the method (active, serving the order's country) and says what is wrong.
    shipping_method = SelectField(_l("Return shipping"), choices=[], validate_choice=False)
    claim = BooleanField(
        "A claim: a problem on the store's side (damaged, defective, wrong or missing item)"
    )
    override_reason = StringField(
        _l("Why override the closed return window?"),
        validators=[
            Length(max=OVERRIDE_MAX, message=f"Keep the reason under {OVERRIDE_MAX} characters.")
        ],  # fmt: skip
    )

    def __init__(self, *args, reasons=(), manager=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.offered_reasons = frozenset(str(r) for r in reasons)
        self.manager = manager

    def validate(self, extra_validators=None):
        for entry in self.lines:
            entry.form.reason.offered = self.offered_reasons
        return super().validate(extra_validators)

    def validate_override_reason(self, field):
        if self.override_text and not self.manager:
            raise ValidationError(ONLY_MANAGERS)

    @property
    def override_text(self):
        return " ".join((self.override_reason.data or "").split())

    def selections(self):
        """The lines the form could read, as domain Selections (quantity 0 included)."""
        return line_selections(self.lines)
