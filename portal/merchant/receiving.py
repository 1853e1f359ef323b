"""Scan to receive (agents): /merchant/receive has one input a keyboard-wedge scanner types into.
Scanning a return label's reference opens that return's scan session; scanning each unit's SKU
counts it; scanning the reference again (or the button) records the receipt. Without
JavaScript every scan is a form post (the scans so far ride along in a hidden field); htmx only
swaps the panel. The rules are portal.returns.scanning."""

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms.fields import HiddenField, StringField
from wtforms.validators import Length

from portal.auth.roles import staff_required
from portal.merchant import bp
from portal.returns import scanning
from portal.returns.errors import Conflict, DomainError
from portal.web import actor, first_error, is_htmx


class ScanForm(FlaskForm):
    code = StringField("Scan or type a code", validators=[Length(max=200)])
    scans = HiddenField()
    version = HiddenField()


def _render(session=None, error=None, status=200, message=None):
    template = "merchant/_receive_panel.html" if is_htmx() else "merchant/receive.html"
    form = ScanForm(formdata=None)
    return render_template(template, session=session, form=form, error=error,
                           message=message), status  # fmt: skip


@bp.route("/receive")
@staff_required
def receive_scan():
    """The scan input; ?code= (the reference scanned) opens that return's session."""
    code = request.args.get("code")
    if code is None:
        return _render()
    try:
        rma = scanning.find_return(code)
    except DomainError as exc:
        return _render(error=str(exc), status=404 if "No return" in str(exc) else 422)
    return _render(scanning.session(rma))


@bp.route("/receive/<reference>", methods=["POST"])
@staff_required
def receive_scanned(reference):
    """One scan (an item's SKU; the reference again records the receipt) or `record`."""
    form = ScanForm()
    try:
        rma = scanning.find_return(reference)
    except DomainError as exc:
        return _render(error=str(exc), status=422)
    current = scanning.session(rma, form.scans.data)
    if not form.validate_on_submit():
        return _render(current, first_error(form), 422)
    code = scanning.clean_code(form.code.data)
    wants_record = request.form.get("action") == "record" or code.upper() == rma.reference.upper()
    try:
        if wants_record:
            received = scanning.record(current, actor(), form.version.data)
        else:
            line = scanning.scan(current, code)
    except Conflict as exc:
        return _render(scanning.session(scanning.find_return(reference)), str(exc), 422)
    except DomainError as exc:
        return _render(current, str(exc), 422)
    if not wants_record:
        title = line.line.order_line.title
        return _render(current, message=f"{line.sku} counted: {title}, {line.scanned} of "
                                        f"{line.expected}.")  # fmt: skip
    text = (f"{received.reference}: {current.units} unit(s) received"
            f"{'' if current.complete else f' of {current.expected} expected'}. Scan the next "
            "parcel.")  # fmt: skip
    if is_htmx():
        return _render(message=text)
    flash(text, "success")
    return redirect(url_for("merchant.receive_scan"), code=303)
