"""Jinja filters and globals shared by every page."""

from portal.returns.money import format_money
from portal.returns.refund_states import WORDS as REFUND_WORDS
from portal.returns.shopper_words import moment


def init_app(app):
    app.add_template_filter(format_money, "money")
    app.add_template_filter(moment, "moment")  # a time in the store's zone, the zone named
    app.jinja_env.globals["refund_words"] = REFUND_WORDS  # a refund's status in words

    @app.template_filter("date")
    def _date(value, fmt="%d %b %Y"):
        return value.strftime(fmt) if value else ""

    @app.template_filter("datetime")
    def _datetime(value):
        return value.strftime("%d %b %Y, %H:%M") if value else ""

    @app.template_filter("humanize")
    def _humanize(value):
        return str(value or "").replace("_", " ").capitalize()
