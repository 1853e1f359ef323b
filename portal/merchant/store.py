"""The store's look (admins): name, logo and accent colour, used on every page and email. The
rules are portal.returns.store_look; the logo is checked and re-encoded by portal.uploads."""

from flask import current_app, render_template, request
from flask_babel import gettext

from portal import store_look as look_cache
from portal.auth.roles import role_required
from portal.merchant import bp
from portal.merchant.admin_forms import StoreLookForm
from portal.models import StoreLook
from portal.returns import store_look
from portal.uploads import read_logo
from portal.web import actor, flash_done, page_refusal, run_action


def _page(form=None, status=200, error=None):
    look = StoreLook.current()
    form = form or StoreLookForm(formdata=None, name=look.name, accent=look.accent)
    return render_template("merchant/settings_store.html", form=form, look=look,
                           min_contrast=store_look.MIN_CONTRAST, error=error), status  # fmt: skip


@bp.route("/settings/store", methods=["GET", "POST"])
@role_required("admin")
def store_settings():
    """The store's name, logo and accent colour."""
    if request.method == "GET":
        return _page()
    form = StoreLookForm()

    def save():
        upload = form.logo.data
        logo = None
        if upload and upload.filename:
            logo = read_logo(upload, current_app.config["PHOTO_MAX_BYTES"])
        saved = store_look.update_look(actor(), form.name.data, form.accent.data, logo=logo,
                                       remove_logo=form.remove_logo.data)  # fmt: skip
        look_cache.forget()
        return saved

    return run_action(form, save, page_refusal(_page, "Check the highlighted fields.", form=form),
                      flash_done(gettext("The store's look is saved."), "merchant.store_settings"))  # fmt: skip
