"""Tracking: the shopper's returns, one return's status, timeline and next step, cancel, and the
return's photos (to its owner and to staff only). What the page shows comes from
portal.returns.tracking."""

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup

from portal.customer import bp
from portal.customer.access import (
    requester,
    return_for_owner_or_staff,
    return_or_404,
    return_query,
    viewer_required,
)
from portal.customer.forms import TrackingForm
from portal.customer.words import moment_formatter, money_formatter, translated_formatter
from portal.i18n import error_text, reason_label
from portal.models import Return, ReturnLine, ReturnPhoto
from portal.pagination import page_number, paginate
from portal.paths import path_for
from portal.returns import requests, shopper_words
from portal.returns.errors import DomainError
from portal.returns.pickers import return_policy
from portal.returns.tracking import tracking_page
from portal.stencils import Stencil
from portal.uploads import photo_path
from portal.web import EmptyForm, cache_generation, is_htmx


@bp.route("/returns")
@viewer_required
def returns():
    """The shopper's returns (a guest: the returns of the order their link opened)."""
    query = return_query().order_by(Return.created_at.desc(), Return.id.desc())
    page = paginate(query, page_number(request.args.get("page")),
                    current_app.config["PER_PAGE"], ReturnLine)  # fmt: skip
    return render_template("customer/returns.html", page=page,
                           words=shopper_words.status_words(page.items))  # fmt: skip


@bp.route("/returns/<reference>")
@viewer_required
def return_detail(reference):
    """Status, the timeline in plain words, the lines, the refund, and what happens next."""
    page = tracking_page(return_or_404(reference), return_policy(cache_generation()))
    # The tracking number's form only where the page shows it (a form costs its CSRF token).
    form = TrackingForm() if page.can_add_tracking else None
    return render_template("customer/return.html", page=page, rma=page.rma, order=page.order,
                           tracking_form=form, **page_values(page))  # fmt: skip


def page_values(page):
    """What customer/return.html fills in beside the page: its lines' rows, and its times,
    amounts and words formatted with the language looked up once."""
    money_of, moment_of, tr = (
        money_formatter(),
        moment_formatter(page.timezone),
        translated_formatter(),
    )
    return {"line_rows": line_rows(page), "moment_of": moment_of, "money_of": money_of, "tr": tr,
            "estimate_html": estimate_html(page, money_of),
            "head_html": head_html(page, current_user.is_authenticated, tr, moment_of)}  # fmt: skip


# The top of the page (the way back, heading, facts, note, what happens next), and one step.
HEAD = Stencil("customer/_return_head.html", ("returns_href", "what", "reference", "status",
               "status_label", "order_href", "order_number", "created_iso", "created_text",
               "resolution", "note", "steps", "cancel_href"))  # fmt: skip
STEP = Stencil("customer/_return_step.html", ("text",))


def head_html(page, signed_in, tr, moment_of):
    """The page's top (customer/_return_head.html) filled as a stencil: `signed_in` whether
    the visitor is signed in (a guest reads "Your returns"), `tr` and `moment_of` the page's
    formatters."""
    rma, order = page.rma, page.order
    reference = rma.reference
    shape = {"signed_in": bool(signed_in), "claim": page.claim, "noted": bool(rma.shopper_note),
             "can_cancel": page.can_cancel}  # fmt: skip
    steps = Markup("").join(STEP.rows([((tr(step),), {}) for step in page.steps]))
    values = (path_for("customer.returns"), tr(page.what), reference, rma.status,
              tr(page.status_label), path_for("customer.order_detail", number=order.number),
              order.number, rma.created_at.isoformat(), moment_of(rma.created_at),
              "" if page.claim else tr(page.resolution), rma.shopper_note, steps,
              path_for("customer.confirm_cancel", reference=reference) if page.can_cancel
              else "")  # fmt: skip
    return HEAD.rows([(values, shape)])[0]


# The refund's estimate before any refund is prepared, and one extra line of it.
ESTIMATE = Stencil("customer/_estimate.html", ("items", "restocking_fee", "return_shipping_fee",
                   "shipping_refund", "exchange_refund", "extras", "total"))  # fmt: skip
EXTRA = Stencil("customer/_extra_line.html", ("description", "sign", "amount"))


def estimate_html(page, money_of):
    """The page's estimate (customer/_estimate.html) filled as a stencil, where the page shows
    it (an estimate and no refund yet), else ""."""
    estimate = page.estimate
    if page.breakdown or not estimate:
        return ""
    cur = page.rma.currency
    extras = [((x.description, "+" if x.amount > 0 else "−", money_of(abs(x.amount), cur)), {})
              for x in page.extra_lines if not x.refund_batch]  # fmt: skip
    parts = {name: getattr(estimate, name)
             for name in ("restocking", "return_shipping", "shipping", "exchange")}  # fmt: skip
    shape = {name: bool(value) for name, value in parts.items()}
    values = (money_of(estimate.items, cur),
              *(money_of(value, cur) if value else "" for value in parts.values()),
              Markup("").join(EXTRA.rows(extras)), money_of(estimate.total, cur))  # fmt: skip
    return ESTIMATE.rows([(values, shape)])[0]


# One line of the page's table (its values in this order; its shape: what the line shows).
LINE = Stencil("customer/_return_line.html", ("title", "bundle_title", "variant_text",
               "swap_product", "swap_variant", "inspection_note", "note", "photos", "reason",
               "quantity", "received", "refunded"))  # fmt: skip
PHOTO = Stencil("customer/_return_photo.html", ("href", "number"))


def line_rows(page):
    """Each line of the tracking page's table (customer/_return_line.html), filled as a
    stencil: what the page's loop over its lines rendered."""
    rows, claim, reference = [], page.claim, page.rma.reference
    for line in page.lines:
        order_line, swap = line.order_line, line.swap
        bundle = page.bundles.get(order_line.id)
        variant_text = order_line.variant_text
        photos = page.photos.get(line.id)
        shape = {"bundle": bool(bundle), "variant": bool(variant_text), "swap": bool(swap),
                 "claim": claim, "kept": bool(line.kept),
                 "rejected": line.inspection == "rejected", "noted": bool(line.note),
                 "photographed": bool(photos)}  # fmt: skip
        links = ""
        if photos:
            links = Markup(", ").join(PHOTO.rows(
                [((path_for("customer.return_photo", reference=reference, photo_id=photo.id),
                   number), {}) for number, photo in enumerate(photos, 1)]))  # fmt: skip
        rows.append(((order_line.title, bundle.title if bundle else "", variant_text,
                      swap.variant.product.title if swap else "",
                      swap.variant.title if swap else "", line.inspection_note, line.note,
                      links, reason_label(line.reason), line.quantity, line.received_quantity,
                      page.refunded.get(line.id, 0)), shape))  # fmt: skip
    return LINE.rows(rows)


@bp.route("/returns/<reference>/cancel", methods=["GET"])
@viewer_required
def confirm_cancel(reference):
    """The second step of cancelling (nothing is cancelled on one tap): a page with the POST
    button, or with htmx the same step inline under the first button."""
    rma = return_or_404(reference)
    page = tracking_page(rma)
    template = "customer/_cancel_confirm.html" if is_htmx() else "customer/cancel_confirm.html"
    return render_template(template, page=page, rma=rma, cancel_form=EmptyForm())


@bp.route("/returns/<reference>/cancel", methods=["POST"])
@viewer_required
def cancel_return(reference):
    """Cancel while requested or approved and nothing was received (the confirmation's button)."""
    rma = return_or_404(reference)
    try:
        requests.cancel_return(rma, requester())
    except DomainError as exc:
        flash(error_text(exc), "error")
    else:
        flash(gettext("Return %(ref)s is cancelled. Its items can be returned again while their "
                "return window is open.", ref=rma.reference), "success")  # fmt: skip
    return redirect(url_for("customer.return_detail", reference=reference), code=303)


@bp.route("/returns/<reference>/photos/<int:photo_id>")
@viewer_required
def return_photo(reference, photo_id):
    """A return's photo: to the shopper (or guest) who owns the return, and to staff."""
    rma = return_for_owner_or_staff(reference)
    photo = (
        ReturnPhoto.select()
        .join(ReturnLine)
        .where((ReturnPhoto.id == photo_id) & (ReturnLine.rma == rma.id))
        .get_or_none()
    )
    path = photo and photo_path(current_app.config["UPLOAD_DIR"], photo.stored_name)
    if not path or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=photo.content_type, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
