"""Inventory locations (managers): add, rename, deactivate and reactivate, make the default for
restocked or damaged units, delete when unused. The stock page (all staff): levels per SKU and
location, and the movements behind one SKU's levels. The rules are portal.returns.locations;
each POST calls one of its functions, which owns its transaction."""

from flask import flash, redirect, render_template, request, url_for

from portal.auth.roles import role_required, staff_required
from portal.merchant import bp
from portal.merchant.admin_forms import AddLocationForm, LocationForm
from portal.returns import locations as inventory
from portal.web import EmptyForm, actor, flash_done, page_refusal, run_action

MANAGERS = "Only managers can change inventory locations."
NOT_CHECKED = "That request could not be checked; try again."
STOCK_ROWS = 200
MOVEMENT_ROWS = 200


def _location_form(row, formdata=True):
    """A location's rename form (its own field names), filled from the location unless posted."""
    prefix = f"location{row.location.id}"
    if formdata:
        return LocationForm(prefix=prefix)
    return LocationForm(formdata=None, prefix=prefix, name=row.location.name,
                        code=row.location.code)  # fmt: skip


def _locations_page(add_form=None, edit_forms=None, status=200, error=None):
    rows = inventory.overview()
    edit_forms = edit_forms or {}
    return render_template(
        "merchant/locations.html",
        rows=rows,
        kinds=inventory.KINDS,
        add_form=add_form or AddLocationForm(formdata=None, prefix="new"),
        edit_forms={
            r.location.id: edit_forms.get(r.location.id) or _location_form(r, False) for r in rows
        },
        button_form=EmptyForm(formdata=None),
        error=error,
    ), status


def _refused(invalid, **bound):
    return page_refusal(_locations_page, invalid, **bound)


def _done(message):
    return flash_done(message, "merchant.locations")


@bp.route("/settings/locations", methods=["GET", "POST"])
@role_required("manager", MANAGERS)
def locations():
    """The locations, and (POST) adding one: name, kind, optional code."""
    if request.method != "POST":
        return _locations_page()
    form = AddLocationForm(prefix="new")
    return run_action(
        form,
        lambda: inventory.add_location(
            actor(), form.name.data, form.kind.data, form.code.data or ""
        ),
        _refused("Check the new location's fields.", add_form=form),
        _done("Location “{name}” added."),
    )


@bp.route("/settings/locations/<int:location_id>/rename", methods=["POST"])
@role_required("manager", MANAGERS)
def rename_location(location_id):
    form = LocationForm(prefix=f"location{location_id}")
    return run_action(
        form,
        lambda: inventory.change_location(
            actor(), location_id, form.name.data, form.code.data or ""
        ),
        _refused("Check the location's name and code.", edit_forms={location_id: form}),
        _done("Location “{name}” saved."),
    )


@bp.route("/settings/locations/<int:location_id>/<any(activate, deactivate):change>",
          methods=["POST"])  # fmt: skip
@role_required("manager", MANAGERS)
def toggle_location(location_id, change):
    active = change == "activate"
    return run_action(
        EmptyForm(),
        lambda: inventory.set_active(actor(), location_id, active),
        _refused(NOT_CHECKED),
        _done(
            "Location “{name}” is active."
            if active
            else "Location “{name}” is deactivated; nothing is restocked into it."
        ),
    )


@bp.route("/settings/locations/<int:location_id>/default", methods=["POST"])
@role_required("manager", MANAGERS)
def default_location(location_id):
    def done(location):
        what = "restocked units" if location.kind == "sellable" else "damaged units"
        flash(f"“{location.name}” is now the default location for {what}.", "success")
        return redirect(url_for("merchant.locations"), code=303)

    return run_action(
        EmptyForm(),
        lambda: inventory.set_default(actor(), location_id),
        _refused(NOT_CHECKED),
        done,
    )


@bp.route("/settings/locations/<int:location_id>/delete", methods=["POST"])
@role_required("manager", MANAGERS)
def delete_location(location_id):
    return run_action(
        EmptyForm(),
        lambda: inventory.delete_location(actor(), location_id),
        _refused(NOT_CHECKED),
        _done("Location “{name}” deleted."),
    )


# --- the stock page -----------------------------------------------------------------------------


@bp.route("/stock")
@staff_required
def stock():
    """Stock levels per SKU and location; `q` searches SKUs (any part, any case)."""
    q = " ".join((request.args.get("q") or "").split())[:100]
    rows = inventory.stock_levels(q, STOCK_ROWS)
    return render_template("merchant/stock.html", q=q, rows=rows,
                           truncated=len(rows) >= STOCK_ROWS)  # fmt: skip


@bp.route("/stock/<path:sku>")
@staff_required
def stock_sku(sku):
    """One SKU: its levels per location and the movements that made them, newest first."""
    levels = inventory.sku_levels(sku)
    moves = inventory.movements(sku, MOVEMENT_ROWS)
    page = render_template("merchant/stock_sku.html", sku=sku, levels=levels, moves=moves,
                           truncated=len(moves) >= MOVEMENT_ROWS)  # fmt: skip
    return page, 200 if levels or moves else 404
