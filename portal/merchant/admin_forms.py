"""Forms of the store's back office: inventory locations (managers), the audit log's filters and
staff roles (admins). The rules (unique names, codes, who may do what) are in the domain; these
forms read the fields and refuse what can't be read. A choice posted outside a select's options
is a field error (WTForms' ValidationError), never a crash."""

from flask_wtf import FlaskForm
from wtforms.fields import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.merchant.forms import choices
from portal.returns.accounts import STAFF_ROLES
from portal.returns.audit import ACTIONS
from portal.returns.locations import KINDS

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
