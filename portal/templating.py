"""Jinja filters and globals shared by every page (money, dates and moments: portal/i18n.py)."""

from portal.returns.refund_states import WORDS as REFUND_WORDS


def init_app(app):
    app.jinja_env.globals["refund_words"] = REFUND_WORDS  # a refund's status in words

    @app.template_filter("humanize")
    def _humanize(value):
        return str(value or "").replace("_", " ").capitalize()
