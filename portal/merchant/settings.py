"""Store settings (managers): the return policy and the nested return reasons. Each POST calls
one domain function (portal.returns.settings), which owns its transaction."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from portal import i18n
from portal.auth.roles import role_required
from portal.merchant import bp
from portal.merchant import forms as f
from portal.models import ReturnPolicy, ReturnReason
from portal.returns import settings
from portal.web import EmptyForm, actor, run_action

SETTINGS_MANAGERS = "Only managers can change the store's return settings."
NOT_CHECKED = "That request could not be checked; try again."


def _policy_form(policy):
    return f.PolicyForm(
        formdata=None,
        returns_enabled=policy.returns_enabled,
        window_days=policy.window_days,
        restocking_fee_percent=settings.bps_to_percent(policy.restocking_fee_bps),
        return_shipping_fee=f.amount_text(policy.return_shipping_fee),
        auto_approve=policy.auto_approve,
        auto_approve_max=f.amount_text(policy.auto_approve_max),
        reference_pattern=policy.reference_pattern,
        require_responsible=policy.require_responsible,
        refund_approval_threshold=f.amount_text(policy.refund_approval_threshold),
        additional_approval_limit=(
            ""
            if policy.additional_approval_limit is None
            else f.amount_text(policy.additional_approval_limit)
        ),  # fmt: skip
        require_return_invoice=policy.require_return_invoice,
        allow_edit_completed=policy.allow_edit_completed,
        expire_unshipped_days=policy.expire_unshipped_days,
        return_address=policy.return_address,
        timezone=policy.timezone,
        inventory_tracking=policy.inventory_tracking,
        staff_returns_approved=policy.staff_returns_approved,
        exchanges_enabled=policy.exchanges_enabled,
        exchange_any_product=policy.exchange_any_product,
        exchange_bonus=f.amount_text(policy.exchange_bonus),
        exchange_absorb_up_to=f.amount_text(policy.exchange_absorb_up_to),
        exchange_stock_buffer=policy.exchange_stock_buffer,
        exchange_restocking_fee=policy.exchange_restocking_fee,
        exchange_return_shipping=policy.exchange_return_shipping,
        exchange_ship_early=policy.exchange_ship_early,
        claim_keep_item_below=f.amount_text(policy.claim_keep_item_below),
        withdrawal_days=policy.withdrawal_days,
        withdrawal_standard_delivery=(
            ""
            if policy.withdrawal_standard_delivery is None
            else f.amount_text(policy.withdrawal_standard_delivery)
        ),  # fmt: skip
        withdrawal_shopper_pays_return=policy.withdrawal_shopper_pays_return,
        withdrawal_return_cost=f.amount_text(policy.withdrawal_return_cost),
        withdrawal_excluded_skus=policy.withdrawal_excluded_skus,
        withdrawal_excluded_categories=policy.withdrawal_excluded_categories,
    )


def _reason_form(formdata=True, reason=None):
    """The add form (reason None) or a reason's edit form, each with its own field names."""
    prefix = f"reason{reason.id}" if reason else "new_reason"
    if formdata:
        form = f.ReasonForm(prefix=prefix)
    elif reason:
        form = f.ReasonForm(
            formdata=None, prefix=prefix, code=reason.code, label=reason.label,
            label_de=reason.label_de,
            parent=str(reason.parent_id or ""), merchant_fault=reason.merchant_fault,
            requires_note=reason.requires_note, requires_photo=reason.requires_photo,
            keep_item=reason.keep_item, position=reason.position,
        )  # fmt: skip
    else:
        form = f.ReasonForm(formdata=None, prefix=prefix)
    # Reasons nest one level deep (as shoppers pick them): only top-level reasons are parents.
    choices = [(r.id, r.label + ("" if r.active else " (inactive)"))
               for r, depth in settings.reason_tree()
               if depth == 0 and (reason is None or r.id != reason.id)]  # fmt: skip
    form.parent.choices = f.choices([("", "None (top level)")] + choices)
    return form


def _settings_page(policy_form=None, reason_form=None, edit_forms=None, status=200, error=None):
    policy = ReturnPolicy.current()
    tree = settings.reason_tree()
    edit_forms = edit_forms or {}
    forms = {r.id: edit_forms.get(r.id) or _reason_form(False, r) for r, _ in tree}
    return render_template(
        "merchant/settings_policy.html",
        policy=policy,
        form=policy_form or _policy_form(policy),
        reason_form=reason_form or _reason_form(False),
        tree=tree,
        reason_forms=forms,
        toggle_form=EmptyForm(formdata=None),
        error=error,
    ), status


def _refused(invalid, **bound):
    """The settings page again, 422: `invalid` for a form that did not validate (its fields
    show why), else the domain's message."""

    def refused(message, error):
        return _settings_page(status=422, error=message if error else invalid, **bound)

    return refused


@bp.route("/settings/policy", methods=["GET", "POST"])
@role_required("manager", SETTINGS_MANAGERS)
def policy_settings():
    """The return policy: window, fees, auto-approval, references, approvals, address."""
    if request.method != "POST":
        return _settings_page()
    form = f.PolicyForm()

    def save():
        # a blank withdrawal period keeps the one saved
        period = {} if form.withdrawal_days.data is None else {
            "withdrawal_days": form.withdrawal_days.data}  # fmt: skip
        return settings.update_policy(
            actor(),
            **period,
            returns_enabled=form.returns_enabled.data,
            window_days=form.window_days.data,
            restocking_fee_bps=settings.percent_to_bps(form.restocking_fee_percent.data),
            return_shipping_fee=form.return_shipping_fee.cents or 0,
            auto_approve=form.auto_approve.data,
            auto_approve_max=form.auto_approve_max.cents or 0,
            reference_pattern=form.reference_pattern.data,
            require_responsible=form.require_responsible.data,
            refund_approval_threshold=form.refund_approval_threshold.cents or 0,
            additional_approval_limit=form.additional_approval_limit.cents,
            require_return_invoice=form.require_return_invoice.data,
            allow_edit_completed=form.allow_edit_completed.data,
            expire_unshipped_days=form.expire_unshipped_days.data,
            return_address=form.return_address.data,
            timezone=form.timezone.data,
            inventory_tracking=form.inventory_tracking.data,
            staff_returns_approved=form.staff_returns_approved.data,
            exchanges_enabled=form.exchanges_enabled.data,
            exchange_any_product=form.exchange_any_product.data,
            exchange_bonus=form.exchange_bonus.cents or 0,
            exchange_absorb_up_to=form.exchange_absorb_up_to.cents or 0,
            exchange_stock_buffer=form.exchange_stock_buffer.data,
            exchange_restocking_fee=form.exchange_restocking_fee.data,
            exchange_return_shipping=form.exchange_return_shipping.data,
            exchange_ship_early=form.exchange_ship_early.data,
            claim_keep_item_below=form.claim_keep_item_below.cents or 0,
            withdrawal_standard_delivery=form.withdrawal_standard_delivery.cents,
            withdrawal_shopper_pays_return=form.withdrawal_shopper_pays_return.data,
            withdrawal_return_cost=form.withdrawal_return_cost.cents or 0,
            withdrawal_excluded_skus=form.withdrawal_excluded_skus.data or "",
            withdrawal_excluded_categories=form.withdrawal_excluded_categories.data or "",
        )

    def saved(policy):
        i18n.forget_timezone()  # dates show in the store's time zone
        flash(gettext("Return policy saved. Open returns keep the terms they were requested under."),
              "success")  # fmt: skip
        return redirect(url_for("merchant.policy_settings"), code=303)

    refused = _refused("Check the highlighted fields.", policy_form=form)
    return run_action(form, save, refused, saved)


def _save_reason(reason_id=None):
    reason = None
    if reason_id is not None:
        reason = ReturnReason.get_or_none(ReturnReason.id == reason_id)
        if reason is None:
            abort(404)
    form = _reason_form(True, reason)
    bound = {"reason_form": form} if reason_id is None else {"edit_forms": {reason_id: form}}

    def save():
        return settings.save_reason(
            actor(), reason_id,
            code=form.code.data, label=form.label.data, parent_id=form.parent.data or None,
            merchant_fault=form.merchant_fault.data, requires_note=form.requires_note.data,
            requires_photo=form.requires_photo.data, position=form.position.data or 0,
            keep_item=form.keep_item.data, label_de=form.label_de.data,
        )  # fmt: skip

    def saved(reason):
        flash(f"Reason “{reason.label}” saved.", "success")
        return redirect(url_for("merchant.policy_settings") + "#reasons", code=303)

    return run_action(form, save, _refused("Check the reason's fields.", **bound), saved)


@bp.route("/settings/reasons", methods=["POST"])
@role_required("manager", SETTINGS_MANAGERS)
def add_reason():
    """Add a reason, optionally nested under a parent."""
    return _save_reason()


@bp.route("/settings/reasons/<int:reason_id>", methods=["POST"])
@role_required("manager", SETTINGS_MANAGERS)
def edit_reason(reason_id):
    return _save_reason(reason_id)


@bp.route("/settings/reasons/<int:reason_id>/<any(deactivate, activate):change>", methods=["POST"])
@role_required("manager", SETTINGS_MANAGERS)
def toggle_reason(reason_id, change):
    def saved(reason):
        state = "active again" if reason.active else "deactivated; shoppers can no longer pick it"
        flash(f"Reason “{reason.label}” is {state}.", "success")
        return redirect(url_for("merchant.policy_settings") + "#reasons", code=303)

    return run_action(
        EmptyForm(),
        lambda: settings.set_reason_active(actor(), reason_id, change == "activate"),
        _refused(NOT_CHECKED),
        saved,
    )
