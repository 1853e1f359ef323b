"""API keys (admins): create one (a name and scopes; the key is shown once), revoke one, see
when each was last used. The rules are in portal.returns.api_keys."""

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from portal.auth.roles import role_required
from portal.merchant import bp
from portal.merchant.forms import choices
from portal.returns import api_keys
from portal.web import EmptyForm, actor, run_action

KEY_ADMINS = "Only admins can manage API keys."


class ApiKeyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the key a name."), Length(max=100)])
    scopes = SelectMultipleField(
        "Scopes",
        choices=choices([(code, f"{code}: {words}") for code, words in api_keys.SCOPES.items()]),
        validators=[DataRequired("Choose at least one scope.")],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


def _page(form=None, status=200, error=None, new_key=None):
    return render_template(
        "merchant/api_keys.html",
        keys=api_keys.keys(),
        form=form or ApiKeyForm(formdata=None),
        revoke_form=EmptyForm(formdata=None),
        error=error,
        new_key=new_key,
    ), status


@bp.route("/api-keys", methods=["GET", "POST"])
@role_required("admin", KEY_ADMINS)
def api_key_list():
    """The keys; POST creates one and shows it once (this answer is the only place it appears)."""
    if request.method != "POST":
        return _page()
    form = ApiKeyForm()
    return run_action(
        form,
        lambda: api_keys.create_key(actor(), form.name.data, form.scopes.data),
        lambda message, error: _page(form, 422, message if error else "Check the fields."),
        lambda made: _page(new_key=made, status=201),
    )


@bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
@role_required("admin", KEY_ADMINS)
def revoke_api_key(key_id):
    def revoked(key):
        flash(f"API key “{key.name}” revoked: it is refused from now on.", "success")
        return redirect(url_for("merchant.api_key_list"), code=303)

    return run_action(
        EmptyForm(),
        lambda: api_keys.revoke_key(actor(), key_id),
        lambda message, error: _page(status=404 if error else 422, error=message),
        revoked,
    )
