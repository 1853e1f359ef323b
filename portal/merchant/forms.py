"""Merchant forms: queue filters, the actions on a return, refund, policy, reasons and staff.

Every POST form carries the CSRF token (FlaskForm) and the return's version, so an action taken
on a page that someone else has changed since is refused instead of applied twice."""

from babel import support
from flask import current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form
from wtforms.fields import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from portal.form_fields import WholeNumberField
from portal.returns.money import parse_money
from portal.returns.queue import DEFAULT_SORT, SORTS
from portal.returns.settings import reason_tree
from portal.web import EmptyForm


class CountField(WholeNumberField):
    """A number of units: blank is 0; anything but a whole number is refused in words."""

    noun = "units"


class MoneyField(StringField):
    """An amount like 12.50, kept as text for redisplay; `.cents` is the integer (None if blank)."""

    cents = None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.cents = None
        raw = (self.data or "").strip()
        if raw:
            try:
                self.cents = parse_money(raw)
            except ValueError as exc:
                raise ValueError(f"{exc} Enter an amount like 12.50.") from None


def choices(pairs):
    """SelectField choices from (value, label) pairs (WTForms 3.3 deprecates plain tuples)."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def reason_choices(generation=None):
    """Every reason, nested ones indented under their parent, inactive ones marked."""
    return [(str(r.id), ("— " * depth) + r.label + ("" if r.active else " (inactive)"))
            for r, depth in reason_tree(generation)]  # fmt: skip


def amount_text(cents):
    """1250 -> '12.50': how a MoneyField shows an amount."""
    return f"{cents // 100}.{cents % 100:02d}"


# --- queue ---------------------------------------------------------------------------------


class QueueFilterForm(FlaskForm):
    """GET filters; read from the query string, no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    status = HiddenField()
    q = SearchField(_l("Search"), validators=[Optional(), Length(max=100)])
    reason = SelectField(_l("Reason"), choices=choices([("", _l("Any reason"))]), default="")
    responsible = SelectField(_l("Responsible"), choices=choices([("", _l("Anyone"))]), default="")
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    sort = SelectField(
        _l("Sort by"),
        choices=choices([(k, label) for k, (label, _) in SORTS.items()]),
        default=DEFAULT_SORT,
    )


# --- actions on a return ---------------------------------------------------------------------


class _Translations:
    """flask_wtf's translations of WTForms' own messages (flask_wtf.i18n.Translations), with
    each language's catalogue loaded once per process: flask_wtf loads it from disk again on
    every request that builds a form."""

    _loaded = {}

    def _catalogue(self):
        if not request or "babel" not in current_app.extensions:
            return None
        locale = get_locale()
        found = self._loaded.get(str(locale))
        if found is None:
            found = support.Translations.load(messages_path(), [locale], domain="wtforms")
            self._loaded[str(locale)] = found
        return found

    def gettext(self, string):
        t = self._catalogue()
        return string if t is None else t.ugettext(string)

    def ngettext(self, singular, plural, n):
        t = self._catalogue()
        if t is None:
            return singular if n == 1 else plural
        return t.ungettext(singular, plural, n)


_translations = _Translations()


class ActionForm(EmptyForm):
    """A button on a return: the CSRF token and the version of the return the page showed."""

    version = HiddenField()

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _translations


class RejectForm(ActionForm):
    reason = TextAreaField(
        _l("Why is it rejected? (the shopper reads this)"),
        validators=[
            DataRequired(_l("Say why the return is rejected; the shopper will read it.")),
            Length(max=2000),
        ],
    )


class CancelForm(ActionForm):
    reason = TextAreaField(
        _l("Why is it cancelled? (the shopper reads this)"),
        validators=[DataRequired(_l("Say why the return is cancelled.")), Length(max=2000)],
    )


class HoldForm(ActionForm):
    note = StringField(_l("Why on hold? (optional)"), validators=[Optional(), Length(max=2000)])


class AssignForm(ActionForm):
    responsible = SelectField(_l("Responsible"), choices=choices([("", _l("Nobody"))]))


class NoteForm(ActionForm):
    text = TextAreaField(
        _l("Internal note (staff only)"),
        validators=[DataRequired(_l("Write the note first.")), Length(max=5000)],
    )


class ReceiveLineForm(Form):
    line_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    received = CountField(_l("Received"), default=0, validators=[NumberRange(min=0)])
    damaged = CountField(_l("Damaged"), default=0, validators=[NumberRange(min=0)])
    missing = CountField(_l("Missing"), default=0, validators=[NumberRange(min=0)])
    wrong_item = CountField(_l("Wrong item"), default=0, validators=[NumberRange(min=0)])
    note = StringField(_l("Exception note"), validators=[Optional(), Length(max=2000)])


class ReceiveForm(ActionForm):
    lines = FieldList(FormField(ReceiveLineForm), max_entries=200)
    accept_on_receipt = BooleanField(_l("Accept undamaged units on receipt"), default=True)


class InspectLineForm(Form):
    line_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    decision = SelectField(
        _l("Decision"),
        choices=choices(
            [("accepted", _l("Accept")), ("rejected", _l("Reject")), ("", _l("Decide later"))]
        ),
        default="accepted",
    )
    note = StringField(_l("Reason (needed to reject)"), validators=[Optional(), Length(max=2000)])


class InspectForm(ActionForm):
    lines = FieldList(FormField(InspectLineForm), max_entries=200)


class RestockLineForm(Form):
    line_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    quantity = CountField(_l("Restock"), default=0, validators=[NumberRange(min=0)])
    quarantine = CountField(_l("Quarantine damaged"), default=0, validators=[NumberRange(min=0)])


class RestockForm(ActionForm):
    # The domain checks the locations (active, sellable / quarantine) and says what is wrong.
    location = SelectField(_l("Restock into"), choices=choices([]), validate_choice=False)
    quarantine_location = SelectField(
        _l("Damaged units go to"), choices=choices([("", _l("Nowhere"))]), default="",
        validate_choice=False,
    )  # fmt: skip
    lines = FieldList(FormField(RestockLineForm), max_entries=200)


class RefundLineForm(Form):
    line_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    override = MoneyField(_l("Override amount"))
    note = StringField(_l("Why overridden"), validators=[Optional(), Length(max=500)])


class SplitForm(Form):
    payment_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    amount = MoneyField(_l("Amount"))


REFUND_SHIPPING = [
    ("auto", _l("As calculated (refunded for merchant-fault reasons)")),
    ("yes", _l("Refund the original shipping")),
    ("no", _l("Don't refund shipping")),
]
DESTINATIONS = [
    ("auto", _l("Original payments (card first, then gift card)")),
    ("custom", _l("Split across payments as entered below")),
    ("store_credit", _l("Store credit")),
]


class RefundForm(ActionForm):
    refund_shipping = SelectField(
        _l("Original shipping"), choices=choices(REFUND_SHIPPING), default="auto"
    )
    additional = MoneyField(_l("Additional value (optional)"))
    additional_note = StringField('"Referred to" note', validators=[Optional(), Length(max=500)])
    destination = SelectField(_l("Refund to"), choices=choices(DESTINATIONS), default="auto")
    split = FieldList(FormField(SplitForm), max_entries=20)
    lines = FieldList(FormField(RefundLineForm), max_entries=200)
    return_invoice_number = StringField(_l("Return invoice number"),
                                        validators=[Optional(), Length(max=60)])  # fmt: skip
    preview = SubmitField(_l("Recalculate"))
    submit = SubmitField(_l("Issue refund"))
    # The second step: the total (cents) the manager confirmed; a different total asks again.
    confirm_total = HiddenField()


EXTRA_KINDS = [("charge", _l("Charge the shopper (reduces the refund)")),
               ("credit", _l("Credit the shopper (adds to the refund)"))]  # fmt: skip


class ExtraLineForm(ActionForm):
    description = StringField(
        _l("Description (the shopper reads it)"),
        validators=[
            DataRequired(_l("Describe the extra line, e.g. “Repair fee”.")),
            Length(max=200),
        ],
    )
    kind = SelectField(_l("Kind"), choices=choices(EXTRA_KINDS), default="charge")
    amount = MoneyField(_l("Amount"), validators=[DataRequired(_l("Enter the amount, like 5.00."))])

    @property
    def signed_cents(self):
        """The amount with its sign: a charge is negative, a credit positive (None if unread)."""
        if self.amount.cents is None:
            return None
        return -self.amount.cents if self.kind.data == "charge" else self.amount.cents


class ShipForm(ActionForm):
    """Ship an exchange order: the carrier, its tracking number, where the units leave from."""

    carrier = StringField(_l("Carrier"), validators=[DataRequired(_l("Enter the carrier.")),
                                                 Length(max=60)])  # fmt: skip
    tracking_number = StringField(
        _l("Tracking number"),
        validators=[DataRequired(_l("Enter the tracking number.")), Length(max=100)],
    )
    # The domain checks the location (active, sellable, holding the units) and says why not.
    location = SelectField(_l("Ships from"), choices=choices([]), validate_choice=False)


PAYMENT_METHODS = [("card", _l("Card")), ("bank_transfer", _l("Bank transfer")), ("paypal", _l("PayPal")),
                   ("cash", _l("Cash"))]  # fmt: skip


class ExchangePaymentForm(ActionForm):
    """Record the shopper's payment of an exchange's difference."""

    method = SelectField(_l("Paid by"), choices=choices(PAYMENT_METHODS), default="card")
    reference = StringField(
        _l("Payment reference"),
        validators=[DataRequired(_l("Enter the payment's reference.")), Length(max=100)],
    )


class RefundDeclineForm(ActionForm):
    reason = StringField(
        _l("Why declined"), validators=[DataRequired(_l("Say why.")), Length(max=2000)]
    )


# --- settings --------------------------------------------------------------------------------

AUTO_APPROVE = [
    ("never", _l("Never: staff review every return")),
    ("always", _l("Always")),
    ("merchant_fault", _l("When the reason is the store's fault")),
    ("under_amount", _l("When the estimated refund is at most the amount below")),
]


class PolicyForm(FlaskForm):
    returns_enabled = BooleanField(_l("Returns are open to shoppers"))
    window_days = IntegerField(
        _l("Return window (days from delivery)"),
        validators=[InputRequired(), NumberRange(min=0, max=3650)],
    )
    restocking_fee_percent = StringField(
        _l("Restocking fee (% of items, shopper-choice reasons)"),
        validators=[InputRequired(), Length(max=8)],
    )
    return_shipping_fee = MoneyField(_l("Return shipping fee"), validators=[Optional()])
    auto_approve = SelectField(_l("Approve automatically"), choices=choices(AUTO_APPROVE))
    auto_approve_max = MoneyField(_l("Auto-approve up to"), validators=[Optional()])
    reference_pattern = StringField(
        _l("Reference pattern"), validators=[InputRequired(), Length(max=60)]
    )
    require_responsible = BooleanField(_l("Require a responsible staff member before approval"))
    refund_approval_threshold = MoneyField(
        _l("Refunds above this need a second manager (0: never)"), validators=[Optional()]
    )
    additional_approval_limit = MoneyField(
        _l(
            "An additional refund value above this needs a second manager (blank: the order's "
            "original shipping)"
        ),
        validators=[Optional()],
    )
    require_return_invoice = BooleanField(_l("Require a return invoice number with each refund"))
    allow_edit_completed = BooleanField(_l("Allow editing completed returns"))
    expire_unshipped_days = IntegerField(
        _l("Cancel approved returns not received after (days; 0: never)"),
        validators=[InputRequired(), NumberRange(min=0, max=3650)],
    )
    timezone = StringField(
        _l("Store time zone (return windows count days in it)"),
        validators=[InputRequired(), Length(max=64)],
    )
    inventory_tracking = BooleanField(_l("Track inventory here (restock returned units)"))
    staff_returns_approved = BooleanField(_l("Returns staff create for a shopper start approved"))
    exchanges_enabled = BooleanField(_l("Shoppers may exchange an item for another size or colour"))
    exchange_any_product = BooleanField(
        _l("Shop the catalogue: exchanges for any active product, not only the same one")
    )
    exchange_bonus = MoneyField(
        _l("Exchange bonus credit (toward a dearer replacement, never paid out)"),
        validators=[Optional()],
    )
    exchange_absorb_up_to = MoneyField(
        _l("We absorb up to (of a dearer replacement's difference)"), validators=[Optional()]
    )
    exchange_stock_buffer = CountField(
        _l("Units kept back from exchanges (minimum stock)"),
        default=0,
        validators=[NumberRange(min=0, max=100000, message=_l("Enter 0 to 100000 units."))],
    )
    exchange_restocking_fee = BooleanField(_l("Charge the restocking fee on exchanges"))
    exchange_return_shipping = BooleanField(_l("Charge the return shipping fee on exchanges"))
    exchange_ship_early = BooleanField(_l("Ship exchanges at approval, before the item is back"))
    claim_keep_item_below = MoneyField(
        _l("Claims on items worth less than this keep the item (0: none)"), validators=[Optional()]
    )
    return_address = TextAreaField(
        _l("Return address"),
        validators=[DataRequired(_l("Enter the return address.")), Length(max=1000)],
    )
    # The EU withdrawal function (docs/withdrawal.md).
    withdrawal_days = IntegerField(
        _l("Withdrawal period (days from delivery; at least 14)"),
        validators=[Optional(), NumberRange(min=14, max=3650,
                                            message=_l("Enter 14 to 3650 days."))],
    )  # fmt: skip
    withdrawal_standard_delivery = MoneyField(
        _l("Standard delivery cost refunded at most (blank: the shipping the order paid)"),
        validators=[Optional()],
    )
    withdrawal_shopper_pays_return = BooleanField(
        _l(
            "Shoppers bear the cost of sending goods back after a withdrawal (your terms must say so)"
        )
    )
    withdrawal_return_cost = MoneyField(
        _l("That return cost (taken from the refund)"), validators=[Optional()]
    )
    withdrawal_excluded_skus = TextAreaField(
        "SKUs excluded from withdrawal (one a line)", validators=[Length(max=5000)]
    )
    withdrawal_excluded_categories = TextAreaField(
        _l("Categories excluded from withdrawal (one a line)"), validators=[Length(max=5000)]
    )


class ReasonForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter a code.")), Length(max=40)])
    label = StringField(
        _l("Label"), validators=[DataRequired(_l("Enter a label.")), Length(max=120)]
    )
    label_de = StringField(_l("German label (optional)"), validators=[Optional(), Length(max=120)])
    # The domain says why a parent is refused (reasons nest one level deep).
    parent = SelectField(
        _l("Parent reason"), choices=choices([("", _l("None (top level)"))]), default="",
        validate_choice=False,
    )  # fmt: skip
    merchant_fault = BooleanField(_l("The store's fault (no fees, shipping refunded)"))
    requires_note = BooleanField(_l("Shopper must add a note"))
    requires_photo = BooleanField(_l("Shopper must add a photo"))
    keep_item = BooleanField(_l("Claims keep the item (nothing to send back, e.g. missing)"))
    position = IntegerField(
        _l("Position"), default=0, validators=[Optional(), NumberRange(0, 9999)]
    )


class StaffForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter an email address.")), Length(max=254)]
    )
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=120)])
    role = SelectField(
        _l("Role"),
        choices=choices(
            [("agent", _l("Agent")), ("manager", _l("Manager")), ("admin", _l("Admin"))]
        ),
    )
    password = PasswordField(
        _l("Initial password (at least 10 characters)"),
        validators=[DataRequired(), Length(min=10, max=200)],
    )
