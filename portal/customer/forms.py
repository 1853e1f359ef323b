"""Shopper forms: the return request (one sub-form per order line) and the guest lookup.
Buttons with nothing to fill in use portal.web.EmptyForm."""

import hashlib
import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import Form
from wtforms.fields import (
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from portal.form_fields import WholeNumberField, line_selections
from portal.returns.requests import NOTE_MAX, SHOPPER_RESOLUTIONS


class LineForm(Form):
    """One order line of the request; the reason is an id checked by the domain."""

    order_line_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    quantity = WholeNumberField(
        _l("How many to return"),
        default=0,
        validators=[NumberRange(min=0, message=_l("The number of items can't be negative."))],
    )
    reason = StringField("Reason")
    reason_parent = StringField("Reason")  # the nested picker's first choice (htmx only)
    replacement = StringField("Refund or exchange")  # a variant id instead of money, or blank
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=NOTE_MAX, message=f"Keep notes under {NOTE_MAX} characters.")],
    )
    photos = MultipleFileField("Photos")


class ResolutionField(RadioField):
    def pre_validate(self, form):
        # ValidationError, not ValueError: WTForms only turns the former into a field error
        # (a tampered value must be a 422 with this message, never a 500).
        if self.data not in SHOPPER_RESOLUTIONS:
            raise ValidationError(_l("Choose a refund to your original payment or store credit."))


class ReturnRequestForm(FlaskForm):
    lines = FieldList(FormField(LineForm), max_entries=200)
    resolution = ResolutionField(
        _l("How would you like your money back?"),
        choices=[SelectChoice(value, label) for value, label in SHOPPER_RESOLUTIONS.items()],
        default="refund",
    )
    shopper_note = TextAreaField(
        _l("Anything else we should know? (optional)"),
        validators=[Length(max=2 * NOTE_MAX, message=_l("Keep your note under 2000 characters."))],
    )
    reviewed = HiddenField()
    # Photos kept with this form (portal.returns.drafts): its token, and those to remove.
    draft = HiddenField()
    drop_photo = SelectMultipleField(coerce=int, validate_choice=False)
    # How the parcel comes back (portal.returns.shipping checks the id: active, serving the
    # order's country); templates/customer/_shipping_method.html shows the choices.
    shipping_method = StringField("How will you send it back?")

    def selections(self, photos=None):
        """The chosen lines as domain Selections (photos: {order_line_id: (PhotoRef, ...)})."""
        return line_selections(self.lines, photos)

    def chosen_files(self):
        """{order_line_id: [FileStorage]} for lines with a quantity (other files are ignored)."""
        files = {}
        for entry in self.lines:
            line = entry.form
            if line.quantity.data and line.photos.data:
                files[line.order_line_id.data] = list(line.photos.data)
        return files

    def digest(self):
        """A fingerprint of what the estimate depends on, to notice changes after review."""
        chosen = sorted(
            (s.order_line_id, s.quantity, str(s.reason_id), str(s.replacement_id))
            for s in self.selections()
            if s.quantity
        )
        raw = json.dumps([chosen, self.resolution.data, self.shipping_method.data or ""],
                         sort_keys=True)  # fmt: skip
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


class TrackingForm(FlaskForm):
    """The carrier and tracking number of a parcel the shopper sent themselves."""

    carrier = StringField(_l("Carrier"), validators=[InputRequired(_l("Enter the carrier.")),
                                                 Length(max=60)])  # fmt: skip
    tracking_number = StringField(
        _l("Tracking number"),
        validators=[InputRequired(_l("Enter the tracking number.")), Length(max=40)],
    )


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LookupForm(FlaskForm):
    number = StringField(
        _l("Order number"),
        filters=[_strip],
        validators=[InputRequired(message=_l("Enter your order number.")), Length(max=64)],
    )
    email = EmailField(
        _l("Email address used for the order"),
        filters=[_strip],
        validators=[
            InputRequired(message=_l("Enter the email address you used for the order.")),
            Regexp(
                r"^[^@\s]+@[^@\s]+$", message=_l("Enter an email address like name@example.com.")
            ),
            Length(max=254),
        ],
    )


class WithdrawLineForm(Form):
    """One order line of a withdrawal: how many of its units to withdraw (all by default)."""

    order_line_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    quantity = WholeNumberField(
        _l("How many to withdraw"),
        default=0,
        validators=[NumberRange(min=0, message=_l("The number of items can't be negative."))],
    )


class WithdrawForm(FlaskForm):
    """The withdrawal's two steps post the same fields; `version` is the order's version the
    confirmation page showed (a second confirmation is refused)."""

    lines = FieldList(FormField(WithdrawLineForm), max_entries=200)
    version = IntegerField(widget=HiddenInput(), default=None, validators=[Optional()])

    def quantities(self):
        """{order_line_id: units} for the lines the form could read."""
        return {entry.form.order_line_id.data: entry.form.quantity.data for entry in self.lines
                if entry.form.order_line_id.data is not None
                and entry.form.quantity.data is not None}  # fmt: skip
