"""The parcel on its way back, on the shopper's side: the return label and its QR code, the
tracking number of a parcel the shopper sent themselves, and the credit note once refunded.
Files are for the return's owner (or guest) and for staff; anyone else gets a 404."""

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext

from portal import i18n
from portal.customer import bp
from portal.customer.access import requester, return_for_owner_or_staff, viewer_required
from portal.customer.forms import TrackingForm
from portal.customer.tracking import page_values
from portal.documents import qr_svg, sheet_pdf
from portal.returns import documents, shipping
from portal.returns.errors import DomainError, NotFound
from portal.returns.tracking import tracking_page
from portal.web import first_error

PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def pdf_response(data, filename):
    """A PDF download, private to whoever may fetch it."""
    response = Response(data, mimetype="application/pdf", headers=PRIVATE)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.route("/returns/<reference>/label.pdf")
@viewer_required
def return_label(reference):
    rma = return_for_owner_or_staff(reference)
    label = shipping.label_of(rma)
    if label is None:
        abort(404)
    return pdf_response(bytes(label.pdf), f"return-label-{rma.reference}.pdf")


@bp.route("/returns/<reference>/qr.svg")
@viewer_required
def return_qr(reference):
    """The QR code a drop-off point scans: the return's reference (an <img> on the page)."""
    rma = return_for_owner_or_staff(reference)
    if shipping.label_of(rma) is None:
        abort(404)
    response = Response(qr_svg(rma.reference), mimetype="image/svg+xml", headers=PRIVATE)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.route("/returns/<reference>/credit-note.pdf")
@viewer_required
def credit_note(reference):
    rma = return_for_owner_or_staff(reference)
    try:
        sheet = documents.credit_note(rma, i18n.document_words())
    except NotFound:
        abort(404)
    return pdf_response(sheet_pdf(sheet), f"credit-note-{rma.return_invoice_number}.pdf")


@bp.route("/returns/<reference>/tracking", methods=["POST"])
@viewer_required
def add_tracking(reference):
    """The carrier and tracking number of a parcel the shopper sent themselves."""
    rma = return_for_owner_or_staff(reference)
    form = TrackingForm()
    try:
        if not form.validate_on_submit():
            raise DomainError(first_error(form))
        shipping.set_tracking(rma, requester(), form.carrier.data, form.tracking_number.data)
    except DomainError as exc:
        page = tracking_page(rma)
        flash(i18n.error_text(exc), "error")
        return render_template("customer/return.html", page=page, rma=page.rma, order=page.order,
                               tracking_form=form, **page_values(page)), 422  # fmt: skip
    flash(gettext("Thanks: we'll follow the parcel with that tracking number."), "success")
    return redirect(url_for("customer.return_detail", reference=reference), code=303)
