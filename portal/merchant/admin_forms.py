"""Forms of the store's back office: inventory locations (managers), the audit log's filters and
staff roles (admins). The rules (unique names, codes, who may do what) are in the domain; these
forms read the fields and refuse what can't be read. A choice posted outside a select's options
is a field error (WTForms' ValidationError), never a crash."""

from flask_wtf import FlaskForm
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
        "Name", validators=[DataRequired("Enter the location's name."), Length(max=80)]
    )
    code = StringField(
        "Code (optional)",
        validators=[Optional(), Length(max=20, message="A code has at most 20 characters.")],
    )


class AddLocationForm(LocationForm):
    kind = SelectField(
        "Kind",
        choices=choices(KINDS.items()),
        default="sellable",
        validators=[DataRequired("Choose sellable stock or quarantine.")],
    )


# --- return shipping methods --------------------------------------------------------------------


class ShippingMethodForm(FlaskForm):
    """A return shipping method; the domain checks the countries and the price's range."""

    name = StringField("Name (shoppers read it)",
                       validators=[DataRequired("Enter the method's name."), Length(max=80)])  # fmt: skip
    price = MoneyField("Price charged to the shopper",
                       validators=[DataRequired("Enter the price, like 4.95 (0 for free).")])  # fmt: skip
    kind = SelectField("Kind", choices=choices(METHOD_KINDS.items()), default="prepaid_label")
    countries = StringField(
        "Countries it serves (ISO codes like US CA; empty: all)",
        validators=[Optional(), Length(max=300)],
    )
    free_for_merchant_fault = BooleanField("Free when a line is the store's fault", default=True)
    position = IntegerField("Position", default=0, validators=[Optional(), NumberRange(0, 9999)])


# --- the audit log ------------------------------------------------------------------------------


class AuditFilterForm(FlaskForm):
    """GET filters, read from the query string; no CSRF (they change nothing)."""

    class Meta:
        csrf = False

    action = SelectField(
        "Change", choices=choices([("", "Any change")] + list(ACTIONS.items())), default=""
    )
    actor = StringField(
        "Changed by (email)",
        validators=[
            Optional(),
            Length(max=254),
            Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter an email address, like ana@example.com."),
        ],
    )
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field):
        start = self.date_from.data if not self.date_from.errors else None
        if field.data and start and field.data < start:
            raise ValidationError("The end date is before the start date.")


# --- staff roles --------------------------------------------------------------------------------


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=choices((role, role.capitalize()) for role in STAFF_ROLES))


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
