"""Staff accounts (admins): add one, deactivate and reactivate, change a role. The rules are in
portal.returns.accounts."""

from flask import current_app, flash, redirect, render_template, request, url_for

from portal.auth.roles import role_required
from portal.merchant import bp
from portal.merchant import forms as f
from portal.merchant.admin_forms import RoleForm
from portal.models import User
from portal.returns import accounts
from portal.returns.api_keys import not_service_account
from portal.returns.errors import NotFound
from portal.web import EmptyForm, actor, run_action

STAFF_ADMINS = "Only admins can manage staff accounts."


def _role_form(member, formdata=True):
    """A member's role form, with its own field names (one per member on the page)."""
    prefix = f"member{member if isinstance(member, int) else member.id}"
    if formdata:
        return RoleForm(prefix=prefix)
    return RoleForm(formdata=None, prefix=prefix, role=member.role)


def _staff_page(form=None, status=200, error=None, role_forms=None):
    members = list(
        User.select()
        .where((User.role != "shopper") & not_service_account())
        .order_by(User.active.desc(), User.role, User.email)
    )
    role_forms = role_forms or {}
    return render_template(
        "merchant/staff.html",
        members=members,
        form=form or f.StaffForm(formdata=None),
        toggle_form=EmptyForm(formdata=None),
        role_forms={m.id: role_forms.get(m.id) or _role_form(m, False) for m in members},
        error=error,
    ), status


@bp.route("/staff", methods=["GET", "POST"])
@role_required("admin", STAFF_ADMINS)
def staff():
    """Staff accounts: add one (email, name, role, initial password)."""
    if request.method != "POST":
        return _staff_page()
    form = f.StaffForm()

    def added(member):
        flash(f"{member.email} can now sign in as {member.role}.", "success")
        return redirect(url_for("merchant.staff"), code=303)

    return run_action(
        form,
        lambda: accounts.add_staff(
            actor(),
            form.email.data,
            form.name.data,
            form.role.data,
            form.password.data,
            current_app.config["PASSWORD_HASH_METHOD"],
        ),  # fmt: skip
        lambda message, error: _staff_page(
            form, 422, message if error else "Check the highlighted fields."
        ),
        added,
    )


@bp.route("/staff/<int:user_id>/<any(deactivate, activate):change>", methods=["POST"])
@role_required("admin", STAFF_ADMINS)
def toggle_staff(user_id, change):
    def changed(member):
        flash(f"{member.email} is {'active' if member.active else 'deactivated'}.", "success")
        return redirect(url_for("merchant.staff"), code=303)

    return run_action(
        EmptyForm(),
        lambda: accounts.set_active(actor(), user_id, change == "activate"),
        lambda message, error: _staff_page(
            status=422, error=message if error else "That request could not be checked; try again."
        ),
        changed,
    )


@bp.route("/staff/<int:user_id>/role", methods=["POST"])
@role_required("admin", STAFF_ADMINS)
def change_role(user_id):
    """Change a staff member's role (agent, manager, admin); it applies from their next
    request. An admin can't change their own."""
    form = _role_form(user_id)

    def changed(member):
        flash(f"{member.email} is now {member.role}.", "success")
        return redirect(url_for("merchant.staff"), code=303)

    def refused(message, error):
        status = 404 if isinstance(error, NotFound) else 422
        return _staff_page(status=status, error=message, role_forms={user_id: form})

    return run_action(form, lambda: accounts.change_role(actor(), user_id, form.role.data),
                      refused, changed)  # fmt: skip
