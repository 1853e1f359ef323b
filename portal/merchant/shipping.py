"""Return shipping methods (managers): add, change, deactivate and reactivate, delete. The rules
are portal.returns.shipping; each POST calls one of its functions, which owns its transaction
and writes the audit entry."""

from flask import render_template, request

from portal.auth.roles import role_required
from portal.merchant import bp
from portal.merchant.admin_forms import ShippingMethodForm
from portal.merchant.forms import amount_text
from portal.returns import shipping
from portal.web import EmptyForm, actor, flash_done, page_refusal, run_action

NOT_CHECKED = "That request could not be checked; try again."


def _method_form(method=None, formdata=True):
    prefix = f"method{method.id}" if method else "new"
    if formdata:
        return ShippingMethodForm(prefix=prefix)
    if method is None:
        return ShippingMethodForm(formdata=None, prefix=prefix)
    return ShippingMethodForm(
        formdata=None, prefix=prefix, name=method.name, price=amount_text(method.price),
        kind=method.kind, countries=method.countries, position=method.position,
        free_for_merchant_fault=method.free_for_merchant_fault,
    )  # fmt: skip


def _page(add_form=None, edit_forms=None, status=200, error=None):
    methods = shipping.all_methods()
    edit_forms = edit_forms or {}
    return render_template(
        "merchant/settings_shipping.html",
        methods=methods,
        kinds=shipping.KINDS,
        add_form=add_form or _method_form(formdata=False),
        edit_forms={m.id: edit_forms.get(m.id) or _method_form(m, False) for m in methods},
        button_form=EmptyForm(formdata=None),
        error=error,
    ), status


def _refused(invalid, **bound):
    return page_refusal(_page, invalid, **bound)


def _done(message):
    return flash_done(message, "merchant.shipping_settings")


def _save(form, method_id=None):
    return shipping.save_method(
        actor(), method_id, name=form.name.data, price=form.price.cents, kind=form.kind.data,
        countries=form.countries.data or "", position=form.position.data or 0,
        free_for_merchant_fault=form.free_for_merchant_fault.data,
    )  # fmt: skip


@bp.route("/settings/shipping", methods=["GET", "POST"])
@role_required("manager", shipping.MANAGERS)
def shipping_settings():
    """The methods, and (POST) adding one."""
    if request.method != "POST":
        return _page()
    form = _method_form()
    return run_action(form, lambda: _save(form), _refused("Check the new method's fields.",
                      add_form=form), _done("Return shipping method “{name}” added."))  # fmt: skip


@bp.route("/settings/shipping/<int:method_id>", methods=["POST"])
@role_required("manager", shipping.MANAGERS)
def edit_shipping_method(method_id):
    form = ShippingMethodForm(prefix=f"method{method_id}")
    return run_action(form, lambda: _save(form, method_id),
                      _refused("Check the method's fields.", edit_forms={method_id: form}),
                      _done("Return shipping method “{name}” saved. Open returns keep the price "
                            "they were requested with."))  # fmt: skip


@bp.route("/settings/shipping/<int:method_id>/<any(activate, deactivate, delete):change>",
          methods=["POST"])  # fmt: skip
@role_required("manager", shipping.MANAGERS)
def change_shipping_method(method_id, change):
    if change == "delete":
        call, message = lambda: shipping.delete_method(actor(), method_id), "deleted"
    else:
        active = change == "activate"
        call = lambda: shipping.set_method_active(actor(), method_id, active)  # noqa: E731
        message = "active again" if active else "deactivated; shoppers can no longer choose it"
    return run_action(EmptyForm(), call, _refused(NOT_CHECKED),
                      _done(f"Return shipping method “{{name}}” {message}."))  # fmt: skip
