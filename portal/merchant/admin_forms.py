"""Forms of the store's back office: inventory locations (managers), the audit log's filters and
staff roles (admins). The rules (unique names, codes, who may do what) are in the domain; these
forms read the fields and refuse what can't be read. A choice posted outside a select's options
is a field error (WTForms' ValidationError), never a crash."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms.fields import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.merchant.forms import MoneyField, choices
from portal.returns.accounts import STAFF_ROLES
from portal.returns.audit import ACTIONS
from portal.returns.locations import KINDS
from portal.returns.shipping import KINDS as METHOD_KINDS
from portal.returns.webhook_events import TYPES as WEBHOOK_TYPES

# --- inventory locations ------------------------------------------------------------------------


class LocationForm(FlaskForm):
    """Rename a location: its name and code (blank keeps the code it has)."""

    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the location's name.")), Length(max=80)]
    )
    code = StringField(
        _l("Code (optional)"),
        validators=[Optional(), Length(max=20, message="A code has at most 20 characters.")],
    )


class AddLocationForm(LocationForm):
    kind = SelectField(
        _l("Kind"),
        choices=choices(KINDS.items()),
        default="sellable",
        validators=[DataRequired(_l("Choose sellable stock or quarantine."))],
    )


# --- return shipping methods --------------------------------------------------------------------


class ShippingMethodForm(FlaskForm):
    """A return shipping method; the domain checks the countries and the price's range."""

    name = StringField(_l("Name (shoppers read it)"),
                       validators=[DataRequired(_l("Enter the method's name.")), Length(max=80)])  # fmt: skip
    price = MoneyField(_l("Price charged to the shopper"),
                       validators=[DataRequired(_l("Enter the price, like 4.95 (0 for free)."))])  # fmt: skip
    kind = SelectField(_l("Kind"), choices=choices(METHOD_KINDS.items()), default="prepaid_label")
    countries = StringField(
        _l("Countries it serves (ISO codes like US CA; empty: all)"),
        validators=[Optional(), Length(max=300)],
    )
    free_for_merchant_fault = BooleanField(
        _l("Free when a line is the store's fault"), default=True
    )
    position = IntegerField(
        _l("Position"), default=0, validators=[Optional(), NumberRange(0, 9999)]
    )


# --- the audit log ------------------------------------------------------------------------------


class AuditFilterForm(FlaskForm):
    """GET filters, read from the query string; no CSRF (they change nothing)."""

    class Meta:
        csrf = False

    action = SelectField(
        _l("Change"), choices=choices([("", _l("Any change"))] + list(ACTIONS.items())), default=""
    )
    actor = StringField(
        _l("Changed by (email)"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(
                r"^[^@\s]+@[^@\s]+$", message=_l("Enter an email address, like ana@example.com.")
            ),
        ],
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        start = self.date_from.data if not self.date_from.errors else None
        if field.data and start and field.data < start:
            raise ValidationError(_l("The end date is before the start date."))


# --- staff roles --------------------------------------------------------------------------------


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=choices((role, role.capitalize()) for role in STAFF_ROLES)
    )


# --- the store's look (admins) ------------------------------------------------------------------


class StoreLookForm(FlaskForm):
    name = StringField(
        _l("Store name"), validators=[DataRequired(_l("Give the store a name.")), Length(max=80)]
    )
    accent = StringField(
        _l("Accent colour"),
        validators=[DataRequired(_l("Give a colour like #0b5cad.")), Length(max=20)],
    )
    logo = FileField(_l("Logo (JPEG, PNG, WebP or GIF)"))
    remove_logo = BooleanField(_l("Remove the logo"))


# --- webhook endpoints ---------------------------------------------------------------------------


class WebhookEndpointForm(FlaskForm):
    """An endpoint: its URL (checked by the domain: http(s), a host, no password), the events it
    gets (checkboxes), a note and whether it is active."""

    url = StringField("URL (https://…)", validators=[
        DataRequired("Enter the endpoint's URL."),
        Length(max=500, message="A URL has at most 500 characters."),
    ])  # fmt: skip
    description = StringField("Description (optional)", validators=[Optional(), Length(max=200)])
    event_types = SelectMultipleField(
        "Events to send",
        choices=choices(WEBHOOK_TYPES.items()),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired("Choose at least one event.")],
    )
    active = BooleanField("Active (deliveries are sent)", default=True)
