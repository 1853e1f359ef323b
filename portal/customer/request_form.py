"""The return request (and the claim, the same form for a problem on the store's side): choose
lines, quantities, reasons and, per line, a refund or an exchange (a claim: a refund or a
replacement), review the estimate and what is due, add photos, submit.

Design (works the same with and without JavaScript):
- One form. "Review return" posts it (step=review): the server re-validates everything and renders
  the review panel (estimated refund + a photo input per chosen line) inside the same form. With
  htmx the button posts to /return/review and only the panel is swapped; on errors the whole form
  is swapped (HX-Retarget) so each message sits next to its input. Without JavaScript the whole
  page comes back with the choices filled in.
- Each line has its photo field (shown with the line; portal/static photo-fields.js opens it as
  soon as the reason needs a photo, and without JavaScript every field is open). Photos posted
  with any step are checked, re-encoded and kept with the form's draft token
  (portal.returns.drafts): a form that comes back with an error says "Photo kept: cap.jpg"
  instead of asking for the file again. With htmx the review also swaps each line's photo field
  (out of band) so a kept file is not sent twice.
- "Submit return" posts the same form (step=confirm, multipart). The return takes the draft's
  photos over in its transaction; drafts never submitted are swept after a day (housekeeping).
  The review panel carries a fingerprint of the choices it estimated; if they changed since,
  the shopper sees the new estimate before anything is saved.
"""

from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from portal.customer import bp
from portal.customer.access import (
    contact_email,
    order_or_404,
    requester,
    viewer_required,
)
from portal.customer.forms import ReturnRequestForm
from portal.i18n import page_language
from portal.returns import catalogue, claims, drafts, eligibility, requests, shipping
from portal.returns.errors import DomainError
from portal.returns.marks import message_of
from portal.returns.requests import PhotoRef
from portal.uploads import ALLOWED, InvalidUpload, delete_photos, store_photo
from portal.web import LineErrors, is_htmx

PHOTO_ACCEPT = ",".join(content_type for content_type, _ in ALLOWED.values())
CHANGED = "Your choices changed since the review. Check the new estimate, then submit again."


@dataclass
class Review:
    breakdown: object
    chosen: list  # requests.Chosen
    photo_fields: dict  # order_line_id -> the file input's name
    digest: str
    resolution: str
    method: object = None  # the ReturnShippingMethod chosen, if the store offers any
    exchange: object = None  # exchange_money.ExchangeSplit of the lines that get a replacement

    def exchange_part(self, chosen):
        """The exchange money of one chosen line (None for a refund line)."""
        if chosen.replacement is None or self.exchange is None:
            return None
        swaps = [c for c in self.chosen if c.replacement is not None]
        return self.exchange.lines[swaps.index(chosen)]


class Flow:
    """Everything one request page needs, loaded once per request. `kind`: "claim" for a
    problem on the store's side (its reasons only; a replacement is the same item)."""

    def __init__(self, number, kind="return"):
        self.kind = kind
        self.order = order_or_404(number)
        claim = kind == claims.KIND
        # The policy, the lines' verdicts, the reasons and the methods: one statement.
        self.policy, self.lines, (reasons, methods) = eligibility.for_order_together(
            self.order, f"request:{kind}",
            lambda order_id: [requests.reasons_query(claims_only=claim), shipping.methods_query()],
            claim=claim,
        )  # fmt: skip
        self.returnable = [e for e in self.lines if e.returnable > 0]
        self.tree = requests.reason_tree(claims_only=claim, reasons=reasons)
        self.methods = shipping.methods_for(self.order, methods)
        returnable = [e.line for e in self.returnable]
        if kind == claims.KIND:
            self.options = catalogue.claim_options(returnable, self.policy)
        else:
            self.options = catalogue.exchange_options(returnable, self.policy)

    @property
    def claim(self):
        return self.kind == claims.KIND

    def url(self, review=False):
        name = ("review_" if review else "request_") + ("claim" if self.claim else "return")
        return url_for(f"customer.{name}", number=self.order.number)

    def method(self, form):
        """The shipping method chosen (None when none is offered); DomainError when invalid."""
        return shipping.choose_method(self.order, form.shipping_method.data, self.methods)

    def form(self):
        if request.method == "POST":
            form = ReturnRequestForm()
        else:
            form = ReturnRequestForm(
                data={
                    "lines": [{"order_line_id": e.line.id, "quantity": 0} for e in self.returnable]
                }
            )
        present = {entry.form.order_line_id.data for entry in form.lines}
        for e in self.returnable:
            if e.line.id not in present:
                form.lines.append_entry({"order_line_id": e.line.id, "quantity": 0})
        return form

    def domain_check(self, form, files=None, check_photos=False):
        return requests.check_selections(
            self.order, form.selections(files), self.policy, lines=[e.line for e in self.lines],
            tree=self.tree, check_photos=check_photos, kind=self.kind,
        )  # fmt: skip

    def check(self, form):
        """Form errors, then the domain's problems for whatever the form could parse."""
        errors = LineErrors()
        form.validate()
        for field in (getattr(form, "csrf_token", None), form.resolution, form.shopper_note):
            for message in getattr(field, "errors", None) or []:
                errors.add(None, None, message)
        for entry in form.lines:
            line = entry.form
            line_id = line.order_line_id.data
            if line.order_line_id.errors:
                errors.add(None, None, "The form is out of date; reload the page and try again.")
            for name in ("quantity", "reason", "note", "replacement"):
                for message in getattr(line, name).errors:
                    errors.add(line_id, name, message)
        check = self.domain_check(form)
        try:
            self.method(form)
        except DomainError as exc:
            errors.add("shipping", "method", message_of(exc))
        for problem in check.problems:
            if problem.order_line_id is None and problem.field is None and errors.by_field:
                continue  # "choose at least one item" while a quantity can't even be read
            if problem.field is not None and errors.has(problem.order_line_id, problem.field):
                continue
            line_known = any(e.line.id == problem.order_line_id for e in self.returnable)
            if problem.field is None or not line_known:
                errors.add(None, None, problem.message)
            else:
                errors.add(problem.order_line_id, problem.field, problem.message)
        return errors, check

    def review(self, form, chosen):
        fields = {entry.form.order_line_id.data: entry.form.photos.name for entry in form.lines}
        method = self.method(form)
        return Review(
            breakdown=requests.estimate_chosen(self.order, chosen, self.policy, self.kind, method),
            chosen=chosen,
            photo_fields={c.line.id: fields[c.line.id] for c in chosen},
            digest=form.digest(),
            resolution=requests.SHOPPER_RESOLUTIONS[form.resolution.data],
            method=method,
            exchange=requests.exchange_split(chosen, self.policy, self.kind),
        )

    def keep_photos(self, form, errors):
        """Keep the photos posted with `form` with its draft (each checked and re-encoded; one
        that can't be read is refused in words, the others are kept), after removing those the
        shopper unticked. Returns {order_line_id: (PhotoRef, ...)} of every photo kept."""
        config = current_app.config
        token = drafts.valid(form.draft.data) or drafts.new_token()
        delete_photos(drafts.drop(token, form.drop_photo.data or []), config["UPLOAD_DIR"])
        titles = {e.line.id: e.line.title for e in self.returnable}
        kept = drafts.kept(token, titles)
        limit = requests.MAX_PHOTOS_PER_LINE
        for line_id, files in form.chosen_files().items():
            files = [file for file in files if file and file.filename]
            if line_id not in titles or not files:
                continue
            if len(kept.get(line_id, [])) + len(files) > limit:
                errors.add(line_id, "photos", f"Add at most {limit} photos of “{titles[line_id]}”.")
                continue
            for file in files:
                try:
                    photo = store_photo(file, config["UPLOAD_DIR"], config["PHOTO_MAX_BYTES"],
                                        config["PHOTO_MAX_PIXELS"], config["PHOTO_MAX_SIDE"])  # fmt: skip
                except InvalidUpload as exc:
                    errors.add(line_id, "photos", str(exc))
                    continue
                kept.setdefault(line_id, []).append(drafts.keep(token, line_id, photo,
                                                                file.filename))  # fmt: skip
        form.draft.data = token if any(kept.values()) else ""
        return {line_id: tuple(PhotoRef(p.stored_name, p.content_type, p.size) for p in photos)
                for line_id, photos in kept.items()}  # fmt: skip

    def needs_photo(self, form):
        """{order_line_id: whether the reason chosen for it needs a photo}."""
        result = {}
        for entry in form.lines:
            raw = str(entry.form.reason.data or "")
            reason = self.tree.by_id.get(int(raw)) if raw.isdigit() else None
            result[entry.form.order_line_id.data] = bool(reason and reason.requires_photo)
        return result

    def render(self, form, errors=None, review=None, status=200, template=None, oob=False):
        entries = {entry.form.order_line_id.data: entry for entry in form.lines}
        context = dict(
            order=self.order,
            policy=self.policy,
            lines=self.lines,
            rows=[(e, entries[e.line.id]) for e in self.returnable],
            blocked=[
                e for e in self.lines if e.returnable == 0 and e.verdict.code != eligibility.BUNDLE
            ],  # fmt: skip
            bundle_titles={
                e.line.id: e.line.title for e in self.lines if e.verdict.code == eligibility.BUNDLE
            },  # fmt: skip
            tree=self.tree,
            methods=self.methods,
            form=form,
            errors=errors or LineErrors(),
            review=review,
            photo_accept=PHOTO_ACCEPT,
            max_photos=requests.MAX_PHOTOS_PER_LINE,
            photo_max_mb=current_app.config["PHOTO_MAX_BYTES"] / (1024 * 1024),
            claim=self.claim,
            options=self.options,
            form_url=self.url(),
            review_url=self.url(review=True),
            kept=drafts.kept(drafts.valid(form.draft.data)),
            needs_photo=self.needs_photo(form),
            oob=oob,  # the review panel also swaps each line's photo field (htmx)
        )
        return render_template(template or "customer/request_return.html", **context), status


def _review(flow, form):
    errors, check = flow.check(form)
    flow.keep_photos(form, errors)
    if errors:
        if is_htmx():
            body, status = flow.render(form, errors, status=422,
                                       template="customer/_return_form.html")  # fmt: skip
            return body, status, {"HX-Retarget": "#return-form", "HX-Reswap": "outerHTML"}
        return flow.render(form, errors, status=422)
    review = flow.review(form, check.chosen)
    if is_htmx() and request.form.get("shown_errors"):
        # The form on screen still shows earlier messages: replace it whole, now without them.
        body, status = flow.render(form, review=review, template="customer/_return_form.html")
        return body, status, {"HX-Retarget": "#return-form", "HX-Reswap": "outerHTML"}
    if is_htmx():
        return flow.render(form, review=review, template="customer/_review.html", oob=True)
    return flow.render(form, review=review)


def _request(flow):
    number = flow.order.number
    if request.method == "GET" and not flow.returnable:
        flash(gettext("Nothing on this order can be claimed right now; each item says why.") if flow.claim
              else gettext("Nothing on this order can be returned right now; each item says why."),
              "info")  # fmt: skip
        return redirect(url_for("customer.order_detail", number=number))
    form = flow.form()
    if request.method == "GET":
        return flow.render(form)
    if request.form.get("step") != "confirm":
        return _review(flow, form)
    return _confirm(flow, form)


@bp.route("/orders/<number>/return", methods=["GET", "POST"])
@viewer_required
def request_return(number):
    """The request form (GET); review (step=review) or submit (step=confirm) without JS."""
    return _request(Flow(number))


@bp.route("/orders/<number>/return/review", methods=["POST"])
@viewer_required
def review_return(number):
    """The review panel (htmx) or, without htmx, the whole page with it."""
    flow = Flow(number)
    return _review(flow, flow.form())


@bp.route("/orders/<number>/claim", methods=["GET", "POST"])
@viewer_required
def request_claim(number):
    """A claim (damaged, defective, wrong or missing item): the request form, its reasons."""
    return _request(Flow(number, claims.KIND))


@bp.route("/orders/<number>/claim/review", methods=["POST"])
@viewer_required
def review_claim(number):
    flow = Flow(number, claims.KIND)
    return _review(flow, flow.form())


def _confirm(flow, form):
    errors, check = flow.check(form)
    choices_wrong = bool(errors)
    photos = flow.keep_photos(form, errors)  # kept whatever else is wrong
    if choices_wrong:
        return flow.render(form, errors, status=422)
    review = flow.review(form, check.chosen)
    if form.reviewed.data != review.digest:
        errors.add(None, None, CHANGED)
        return flow.render(form, errors, review=review, status=422)
    for problem in flow.domain_check(form, photos, check_photos=True).problems:
        if problem.field == "photos":
            errors.add(problem.order_line_id, problem.field, problem.message)
    if errors:
        return flow.render(form, errors, review=review, status=422)
    try:
        rma = requests.request_return(
            flow.order,
            requester(),
            contact_email(flow.order),
            form.selections(photos),
            form.resolution.data,
            form.shopper_note.data or "",
            staff_email=current_app.config["STAFF_EMAIL"],
            shipping_method_id=form.shipping_method.data or None,
            kind=flow.kind,
            draft=form.draft.data or None,
            locale=page_language(),
        )
    except DomainError as exc:  # the photos stay kept with the draft for another try
        errors.add(None, None, message_of(exc))
        draft = form.draft.data
        flow = Flow(flow.order.number, flow.kind)  # quantities may have changed under us
        fresh = flow.form()
        fresh.draft.data = draft
        return flow.render(fresh, errors, status=422)
    said = (gettext("Claim %(ref)s requested. We've emailed a confirmation to %(email)s.")
            if flow.claim else
            gettext("Return %(ref)s requested. We've emailed a confirmation to %(email)s."))  # fmt: skip
    flash(said % {"ref": rma.reference, "email": rma.email}, "success")
    return redirect(url_for("customer.return_detail", reference=rma.reference), code=303)


@bp.route("/orders/<number>/return/reasons")
@viewer_required
def reason_picker(number):
    """htmx: the nested reason picker for one line (first choice, then the more specific one)."""
    order_or_404(number)
    index = request.args.get("index", type=int)
    if index is None or not 0 <= index < 200:
        abort(400)
    claim = request.args.get("claims") == "1"
    tree = requests.reason_tree(claims_only=claim)
    if request.args.get("part") == "child":
        raw = request.args.get(f"lines-{index}-reason_parent", "")
        parent = tree.by_id.get(int(raw)) if raw.isdigit() else None
        return render_template("customer/_reason_child.html", index=index, tree=tree,
                               parent=parent, selected=None, invalid=False, claim=claim)  # fmt: skip
    raw = request.args.get("selected", "")
    selected = int(raw) if raw.isdigit() else None
    parent = tree.top_of(selected)
    if parent is None and request.args.get("parent", "").isdigit():
        parent = tree.top_of(int(request.args["parent"]))
    return render_template(
        "customer/_reason_nested.html",
        index=index,
        tree=tree,
        number=number,
        selected=selected,
        parent=parent,
        invalid=request.args.get("invalid") == "1",
        title=request.args.get("title", "")[:200],
        claim=claim,
    )
