"""Jinja filters and globals shared by every page (money, dates and moments: portal/i18n.py)."""


def init_app(app):
    @app.template_filter("humanize")
    def _humanize(value):
        return str(value or "").replace("_", " ").capitalize()
