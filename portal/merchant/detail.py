"""A return's page for staff: order and shopper, lines with every quantity, refunds, timeline
and the next actions, each with its form. What the page shows comes from
portal.returns.detail; this module builds the forms, prefilled with what a parcel that arrives
as expected needs, and renders the page (whole, or the part htmx swaps)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.auth.roles import staff_required
from portal.merchant import bp
from portal.merchant import forms as f
from portal.merchant.pieces import FORM_END, FieldPieces, FormOpener, FreshForm, cached
from portal.paths import path_for
from portal.returns import states, timeline
from portal.returns.detail import return_by_reference, return_detail
from portal.web import cache_generation, is_htmx

# What the templates read from the page's content (portal.returns.detail.ReturnDetail).
SHOWN = ("rma", "order", "policy", "rows", "line_by_id", "unreceived", "covered", "photos",
         "refunds", "events", "shopper_kinds", "actions", "finish_blocker", "plan", "plan_rows",
         "plan_error", "payments", "responsible", "status_label", "fee_percent", "refund_failed",
         "failed_refunds", "refund_being_sent", "extra_lines", "history", "no_locations",
         "can_edit", "has_label", "shipments", "to_ship", "awaiting_payment",
         "additional_limit")  # fmt: skip


def load_return(reference):
    rma = return_by_reference(reference)
    if rma is None:
        abort(404)
    return rma


def responsible_choices(staff):
    return f.choices([("", "Nobody")] + [(u.id, u.name or u.email) for u in staff])


def location_choices(locations, kind, blank=None):
    pairs = [(loc.id, f"{loc.name} ({loc.code})") for loc in locations if loc.kind == kind]
    return f.choices(([("", blank)] if blank else []) + pairs)


def _default(locations, kind, default_id):
    """The location a form starts on: the store's default for the kind, else the first."""
    ids = [loc.id for loc in locations if loc.kind == kind]
    chosen = default_id if default_id in ids else (ids[0] if ids else "")
    return str(chosen)


class LazyForms(dict):
    """The page's forms, each built (and its CSRF token made) only when the template shows it:
    the page offers a handful of the actions it has forms for."""

    def __init__(self, builders, bound):
        super().__init__(bound)
        self._builders = builders

    def __missing__(self, name):
        if name not in self._builders:
            raise KeyError(name)
        form = self[name] = self._builders[name]()
        return form

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name):
        return dict.__contains__(self, name) or name in self._builders


def _choices(name, generation, make):
    """A select's choices from the pickers, made once per generation (never changed after:
    a form only reads its choices)."""
    if generation is None:
        return make()
    return cached(("choices", name, generation), make)


def _forms(d, bound, generation=None):
    """Every form of the page, prefilled, built when first shown; `bound` holds the forms
    just posted (with errors)."""
    version = d.rma.version
    builders = {}

    def make(name, cls, **data):
        return cls(formdata=None, prefix=name, version=version, **data)

    def fresh(name, cls, **data):  # a form of plain fields: its pieces without building it
        builders[name] = lambda: FreshForm(lambda: make(name, cls, **data), cls, name, version,
                                           data)  # fmt: skip

    for name, cls in [
        ("approve", f.ActionForm),
        ("reject", f.RejectForm),
        ("hold", f.HoldForm),
        ("resume", f.ActionForm),
        ("finish", f.ActionForm),
        ("cancel", f.CancelForm),
        ("note", f.NoteForm),
        ("refund_action", f.ActionForm),
        ("decline_refund", f.RefundDeclineForm),
        ("extra", f.ExtraLineForm),
        ("extra_remove", f.ActionForm),
    ]:
        fresh(name, cls)

    def assign():
        form = make("assign", f.AssignForm, responsible=str(d.rma.responsible_id or ""))
        form.responsible.choices = _choices("responsible", generation,
                                            lambda: responsible_choices(d.staff))  # fmt: skip
        return form

    def assign_stand_in():  # its choices are the pickers' (the generation keys its pieces)
        return FreshForm(assign, f.AssignForm, "assign", version,
                         {"responsible": str(d.rma.responsible_id or "")})  # fmt: skip

    def receive():
        return make("receive", f.ReceiveForm, lines=[
            {"line_id": ln.id, "received": ln.quantity - ln.received_quantity}
            for ln, _ in d.rows if ln.quantity > ln.received_quantity
        ])  # fmt: skip

    def inspect():  # its lines' fields from cached pieces too (FreshEntry)
        data = {"lines": [
            {"line_id": ln.id, "decision": "accepted"}
            for ln, _ in d.rows if ln.received_quantity and ln.inspection == "pending"
        ]}  # fmt: skip
        return FreshForm(lambda: make("inspect", f.InspectForm, **data), f.InspectForm,
                         "inspect", version, data, lists=("lines",))  # fmt: skip

    def restock():
        form = make(
            "restock", f.RestockForm,
            location=_default(d.locations, "sellable", d.default_location_id),
            quarantine_location=_default(d.locations, "quarantine",
                                         d.default_quarantine_location_id),
            lines=[
                {"line_id": ln.id,
                 "quantity": lf.restockable if ln.inspection == "accepted" else 0}
                for ln, lf in d.rows
                if (ln.inspection == "accepted" and lf.restockable > 0) or lf.quarantinable > 0
            ],
        )  # fmt: skip
        form.location.choices = _choices(
            "sellable", generation, lambda: location_choices(d.locations, "sellable")
        )
        form.quarantine_location.choices = _choices(
            "quarantine", generation, lambda: location_choices(d.locations, "quarantine", "Nowhere")
        )
        return form

    def ship(shipment):
        form = make(f"ship{shipment.id}", f.ShipForm,
                    location=_default(d.locations, "sellable", d.default_location_id))  # fmt: skip
        form.location.choices = _choices(
            "sellable", generation, lambda: location_choices(d.locations, "sellable")
        )
        return form

    def refund():
        split = {a.payment_id: a.amount for a in d.plan.default_split()}
        return make(
            "refund", f.RefundForm,
            destination="store_credit" if d.rma.resolution == "store_credit" else "auto",
            lines=[{"line_id": line_id} for line_id in d.plan.quantities],
            split=[{"payment_id": p.id, "amount": f.amount_text(split.get(p.id, 0))}
                   for p in d.payments],
        )  # fmt: skip

    builders.update(assign=assign_stand_in, receive=receive, inspect=inspect, restock=restock)
    for shipment in d.to_ship:
        builders[f"ship{shipment.id}"] = lambda shipment=shipment: ship(shipment)
    for shipment in d.awaiting_payment:
        fresh(f"pay{shipment.id}", f.ExchangePaymentForm)
    for shipment in d.shipments:
        if shipment.status == "shipped":
            fresh(f"deliver{shipment.id}", f.ActionForm)
    if d.plan is not None:
        builders["refund"] = refund
    return LazyForms(builders, bound)


class ReturnURLs:
    """return_url(endpoint): url_for(endpoint, reference=<the return's>) by path_for (the
    page links to a dozen of the return's URLs)."""

    def __init__(self, reference):
        self.reference = reference

    def __call__(self, endpoint):
        return path_for(endpoint, reference=self.reference)


def page_context(rma, bound=None, refund_inputs=None):
    generation = cache_generation()
    d = return_detail(rma, refund_inputs, generation)
    context = {name: getattr(d, name) for name in SHOWN}
    context.update(
        forms=_forms(d, bound or {}, generation),
        fresh=FieldPieces("detail", generation),  # the fresh forms' fields, rendered once
        return_url=ReturnURLs(rma.reference),
        is_manager=current_user.has_role("manager"),
        labels=states.LABELS,
        shopper_text=timeline.shopper_text,
        form_open=FormOpener(),  # `{{ form_open(url, form) }}…{{ form_end }}`: action_form's HTML
        form_end=FORM_END,
        **shown_parts(d.rows, d.events),
    )
    return context


PARCEL_KINDS = ("carrier_in_transit", "carrier_delivered")


def shown_parts(rows, events):
    """What the templates would otherwise filter out of the rows and the timeline on every
    render (Jinja's selectattr): the rows with a replacement, whether any line has damaged
    units, and the carrier's last word on the parcel (None: none yet)."""
    parcel = [event for event in events if event.kind in PARCEL_KINDS]
    return {
        "swaps": [row for row in rows if row[0].swap],
        "any_damaged": any(line.damaged_quantity for line, _ in rows),
        "parcel_event": parcel[-1] if parcel else None,
    }


def render_page(rma, status=200, bound=None, refund_inputs=None, **messages):
    """The page (the part htmx swaps, for htmx) of `rma` as it was just read."""
    template = "merchant/_detail.html" if is_htmx() else "merchant/detail.html"
    ctx = page_context(rma, bound, refund_inputs)
    return render_template(template, **messages, **ctx), status


def done(reference, message):
    """After an action: the page again (htmx) or a redirect to it, with the outcome."""
    if is_htmx():
        return render_page(load_return(reference), message=message)
    flash(message, "success")
    return redirect(url_for("merchant.detail", reference=reference), code=303)


@bp.route("/returns/<reference>")
@staff_required
def detail(reference):
    """Order and shopper, lines with every quantity, refunds, timeline and the next actions."""
    return render_page(load_return(reference))
