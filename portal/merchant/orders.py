"""Orders for staff: a search (number, email or the shopper's name), one order's page (its lines
with what was bought, returned, is in a return and can still be returned, payments, refunds,
invoices and every return), and a return staff create for the shopper from that page.

What the pages show comes from portal.returns.staff_orders; the return is created by
portal.returns.requests.request_return (staff=the signed-in member), which checks every rule
again inside its transaction. Before calling it, the view shows each problem it can find
(check_selections) beside its input, with a 422 and nothing written."""

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from wtforms.fields import SelectChoice

from portal.auth.roles import staff_required
from portal.merchant import bp
from portal.merchant.order_forms import OrderSearchForm, StaffReturnForm
from portal.pagination import page_number
from portal.returns import catalogue, claims, eligibility, requests, shipping, staff_orders
from portal.returns.errors import DomainError
from portal.returns.money import format_money
from portal.returns.states import APPROVED, LABELS
from portal.web import LineErrors, actor, is_htmx, run_action

OUT_OF_DATE = "The form is out of date; reload the page and try again."
NEEDS_OVERRIDE = (
    "Give a reason to override the closed return window, or leave the items whose window "
    "closed at 0."
)


@bp.route("/orders")
@staff_required
def orders():
    """Search orders; htmx swaps the results and pushes the search's URL."""
    form = OrderSearchForm(request.args)
    q = (form.q.data or "").strip() if form.validate() else ""
    page = staff_orders.search_orders(
        q, page_number(request.args.get("page")), current_app.config["PER_PAGE"]
    )
    context = {"form": form, "q": q, "page": page}
    if not is_htmx():
        return render_template("merchant/orders.html", **context)
    response = make_response(render_template("merchant/_order_results.html", **context))
    response.headers["HX-Push-Url"] = url_for("merchant.orders", **({"q": q} if q else {}))
    return response


class OrderPage:
    """Everything the order's page needs, read once per request."""

    def __init__(self, number):
        self.staff_order = staff_orders.order_for_staff(
            number, requests.reasons_query(), shipping.methods_query()
        )
        if self.staff_order is None:
            abort(404)
        self.order = self.staff_order.order
        self.user = actor()
        self.manager = self.user.has_role("manager")
        reasons, methods = self.staff_order.rows
        self.tree = requests.reason_tree(reasons=reasons)
        self.methods = shipping.methods_for(self.order, methods)
        # Every reason a shopper may pick; staff taking a return by phone need no photo (the
        # domain checks photos for shoppers' own requests only).
        self.reasons = [r for r in self._leaves() if self.tree.is_choosable(r)]
        self.override_units = staff_orders.override_units(self.staff_order) if self.manager else {}
        self.offered = {}  # order_line_id -> (units, only with an override)
        for staff_line in self.staff_order.lines:
            if staff_line.returnable > 0:
                self.offered[staff_line.line.id] = (staff_line.returnable, False)
            elif staff_line.line.id in self.override_units:
                self.offered[staff_line.line.id] = (self.override_units[staff_line.line.id], True)
        offered = [sl.line for sl in self.staff_order.lines if sl.line.id in self.offered]
        policy = self.staff_order.policy
        # Per line, what it may get instead of money: a claim's replacement (the same item)
        # and the exchange options; the domain checks which applies to the return's kind.
        self.claim_options = catalogue.claim_options(offered, policy)
        self.exchange_options = catalogue.exchange_options(offered, policy)

    def _leaves(self):
        for top in self.tree.top:
            yield from self.tree.children.get(top.id) or [top]

    @property
    def reason_groups(self):
        """[(parent label or None, [reasons])] for the reason select's <optgroup>s."""
        offered = {r.id for r in self.reasons}
        groups = []
        for top in self.tree.top:
            children = self.tree.children.get(top.id)
            if children:
                kids = [r for r in children if r.id in offered]
                if kids:
                    groups.append((top.label, kids))
            elif top.id in offered:
                groups.append((None, [top]))
        return groups

    def form(self):
        reasons = [r.id for r in self.reasons]
        if request.method == "POST":
            form = StaffReturnForm(reasons=reasons, manager=self.manager)
        else:
            form = StaffReturnForm(
                reasons=reasons,
                manager=self.manager,
                data={"lines": [{"order_line_id": i, "quantity": 0} for i in self.offered],
                      "shipping_method": str(self.methods[0].id) if self.methods else ""},
            )  # fmt: skip
        form.shipping_method.choices = [
            SelectChoice(str(m.id), f"{m.name} ({format_money(m.price, self.order.currency)})")
            for m in self.methods
        ]
        present = {entry.form.order_line_id.data for entry in form.lines}
        for line_id in self.offered:
            if line_id not in present:
                form.lines.append_entry({"order_line_id": line_id, "quantity": 0})
        return form

    def check(self, form):
        """The form's errors, then the domain's problems for whatever the form could read."""
        errors = LineErrors()
        form.validate()
        if getattr(form, "csrf_token", None) is not None and form.csrf_token.errors:
            errors.add(None, None, OUT_OF_DATE)
        for entry in form.lines:
            line = entry.form
            if line.order_line_id.errors:
                errors.add(None, None, OUT_OF_DATE)
                continue
            line_id = line.order_line_id.data
            for name in ("quantity", "reason", "note", "replacement"):
                for message in getattr(line, name).errors:
                    # A line without inputs on the page (not returnable) says so in the summary.
                    errors.add(line_id if line_id in self.offered else None, name, message)
        fields_invalid = any(f.errors for f in (form.resolution, form.note, form.override_reason))
        try:
            shipping.choose_method(self.order, form.shipping_method.data, self.methods)
        except DomainError as exc:
            form.shipping_method.errors = [*form.shipping_method.errors, str(exc)]
            fields_invalid = True
        override = bool(form.override_text) and self.manager
        selections = form.selections()
        check = requests.check_selections(
            self.order, selections, self.staff_order.policy,
            lines=[staff_line.line for staff_line in self.staff_order.lines], tree=self.tree,
            check_photos=False, past_window=override, kind=self.kind(form),
        )  # fmt: skip
        for problem in check.problems:
            if problem.order_line_id is None and problem.field is None and errors.by_field:
                continue  # "choose at least one item" while a quantity can't even be read
            if problem.field is not None and errors.has(problem.order_line_id, problem.field):
                continue
            if problem.field is None or problem.order_line_id not in self.offered:
                errors.add(None, None, problem.message)
            else:
                errors.add(problem.order_line_id, problem.field, problem.message)
        past_window = {line_id for line_id, (_, only) in self.offered.items() if only}
        wants_past = any(s.quantity and s.order_line_id in past_window for s in selections)
        if wants_past and not override and not form.override_reason.errors:
            form.override_reason.errors.append(NEEDS_OVERRIDE)
            fields_invalid = True
        return errors, fields_invalid

    @staticmethod
    def kind(form):
        return claims.KIND if form.claim.data else "return"

    def render(self, form, errors=None, status=200):
        staff_order = self.staff_order
        entries = {entry.form.order_line_id.data: entry for entry in form.lines}
        context = dict(
            so=staff_order,
            order=self.order,
            customer=self.order.customer,
            policy=staff_order.policy,
            lines=staff_order.lines,
            rows=[
                (sl, self.offered[sl.line.id], entries[sl.line.id])
                for sl in staff_order.lines
                if sl.line.id in self.offered
            ],
            bundle_titles={
                sl.line.id: sl.line.title
                for sl in staff_order.lines
                if sl.eligibility.verdict.code == eligibility.BUNDLE
            },
            can_override=bool(self.override_units),
            manager=self.manager,
            reason_groups=self.reason_groups,
            claim_options=self.claim_options,
            exchange_options=self.exchange_options,
            labels=LABELS,
            form=form,
            errors=errors or LineErrors(),
        )
        return render_template("merchant/order.html", **context), status


@bp.route("/orders/<number>")
@staff_required
def order(number):
    page = OrderPage(number)
    return page.render(page.form())


@bp.route("/orders/<number>/returns", methods=["POST"])
@staff_required
def create_return(number):
    """A return staff create for the shopper; 303 to its page, or the order's page with each
    problem beside its input (422, nothing written)."""
    page = OrderPage(number)
    form = page.form()
    errors, fields_invalid = page.check(form)
    if errors or fields_invalid:
        return page.render(form, errors, status=422)
    order = page.order

    def call():
        return requests.request_return(
            order, order.customer, order.email, [s for s in form.selections() if s.quantity],
            form.resolution.data, form.note.data or "", staff=page.user,
            override_reason=form.override_text, kind=page.kind(form),
            shipping_method_id=form.shipping_method.data or None,
        )  # fmt: skip

    def refused(message, error):
        fresh = OrderPage(number)  # quantities may have changed under us
        found = LineErrors()
        found.add(None, None, message)
        return fresh.render(fresh.form(), found, status=422)

    def done(rma):
        if rma.status == APPROVED:
            then = "It is approved; we've emailed the shopper the return instructions."
        else:
            then = "It waits for a manager's approval; we've emailed the shopper a confirmation."
        what = "Claim" if rma.kind == claims.KIND else "Return"
        flash(f"{what} {rma.reference} created for {rma.email}. {then}", "success")
        return redirect(url_for("merchant.detail", reference=rma.reference), code=303)

    return run_action(form, call, refused, done)
