"""The staff return page's helpers (portal/merchant/detail.py): its links to the return's own
URLs are url_for's."""

import re
from pathlib import Path

from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.merchant.detail import ReturnURLs

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "merchant"


def _endpoints():
    """Every endpoint the page's templates link to through return_url()."""
    found = set()
    for path in TEMPLATES.glob("*.html"):
        found |= set(re.findall(r"return_url\('([a-z_.]+)'\)", path.read_text()))
    return sorted(found)


def test_the_return_pages_links_are_url_fors(app):
    endpoints = _endpoints()
    assert {"merchant.inspect", "merchant.note", "customer.credit_note"} <= set(endpoints)

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12))
    def check(reference):
        urls = ReturnURLs(reference)
        for endpoint in endpoints:
            assert urls(endpoint) == url_for(endpoint, reference=reference), endpoint

    with app.test_request_context("/"):
        check()
    with app.test_request_context("/", base_url="http://shop.test/portal/"):
        check()
