"""The order page's lines filled from their stencil (portal/customer/orders.py line_rows) are
what the page's loop over its lines rendered before (kept here as the reference), for any line:
bundles and their parts, pictures, variants, final sale, the reason it cannot go back or its
last day, prices in any currency, in English and German, any text (hypothesis)."""

import datetime
from types import SimpleNamespace as NS

from flask import render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from portal.customer.orders import line_rows
from portal.i18n import date_formatter
from portal.returns.marks import N_

# The loop of customer/order.html before its lines became a stencil, as it was.
REFERENCE = """{% with _ = page_gettext() %}{% set price_word, ordered_word, taken_word, returnable_word = _("Price"), _("Ordered"), _("Returned or requested"), _("Returnable") %}{% for e in lines %}
    {% with line = e.line %}
    <tr id="line-{{ line.id }}"{% if line.bundle_id %} class="bundle-part"{% endif %}>
      <td>{% if images.get(line.id) %}<img src="{{ images[line.id] }}" alt="" width="56" height="56" loading="lazy" class="thumb">{% endif %}{% if line.bundle_id %}<span class="muted small">{{ _("Part of the bundle above:") }}</span><br>{% endif %}{{ line.title }}{% if line.variant_text %}<br><span class="muted small">{{ line.variant_text }}</span>{% endif %}
        {% if line.final_sale %}<br><span class="badge">{{ _("Final sale") }}</span>{% endif %}
        {% if e.verdict.reason %}<p class="muted small why-not">{{ e.verdict.reason|translated }}</p>
        {% elif e.verdict.last_day %}<p class="muted small">{% trans day=e.verdict.last_day|date, zone=policy.timezone %}Returnable until {{ day }} (the last day, {{ zone }} time){% endtrans %}</p>{% endif %}
      </td>
      <td class="num" data-label="{{ price_word }}">{{ line.unit_total|money(order.currency) }}</td>
      <td class="num" data-label="{{ ordered_word }}">{{ e.verdict.ordered }}</td>
      <td class="num" data-label="{{ taken_word }}">{{ e.verdict.taken }}</td>
      <td class="num" data-label="{{ returnable_word }}"><strong>{{ e.returnable }}</strong></td>
    </tr>{% endwith %}
  {% endfor %}{% endwith %}"""  # noqa: E501

TEXT = st.text(alphabet=st.sampled_from("ab <>&\"'é#/:.0%\x01"), max_size=8)
DAYS = st.dates(min_value=datetime.date(2025, 1, 1), max_value=datetime.date(2027, 12, 31))
REASONS = st.one_of(
    st.none(),
    st.just(N_("Final sale: this item can't be returned.")),
    st.just(N_("It is already returned or in a return request.")),
    st.builds(
        lambda count: N_("All %(count)s are already returned or in a return request.", count=count),
        st.integers(1, 9),
    ),  # fmt: skip
    st.builds(
        lambda day, days: N_(
            "The return window closed on %(day)s (%(days)s days from delivery).", day=day, days=days
        ),
        DAYS,
        st.integers(0, 90),
    ),
    TEXT,
)
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@st.composite
def pages(draw):
    lines, images = [], {}
    for n in range(draw(st.integers(0, 4))):
        line = NS(id=100 + n, bundle_id=draw(st.sampled_from([None, 0, 99])), title=draw(TEXT),
                  variant_text=draw(st.sampled_from(["", "size: S", "<b>&"])),
                  final_sale=draw(st.booleans()),
                  unit_total=draw(st.integers(0, 10**7)))  # fmt: skip
        if draw(st.booleans()):
            images[line.id] = draw(st.sampled_from(["/static/a.png", "https://x/a?b=1&c=<2>"]))
        verdict = NS(reason=draw(REASONS), last_day=draw(st.none() | DAYS),
                     ordered=draw(st.integers(0, 9)), taken=draw(st.integers(0, 9)))  # fmt: skip
        lines.append(NS(line=line, verdict=verdict, returnable=draw(st.integers(0, 9))))
    policy = NS(timezone=draw(st.sampled_from(["UTC", "Europe/Berlin", "<zone>"])))
    order = NS(currency=draw(st.sampled_from(["USD", "EUR", "JPY", "GBP"])))
    return lines, images, policy, order


@SETTINGS
@given(page=pages(), lang=st.sampled_from(["en", "de"]))
def test_the_lines_stencil_renders_what_the_pages_loop_did(app, page, lang):
    lines, images, policy, order = page
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        expected = render_template_string(REFERENCE, lines=lines, images=images, policy=policy,
                                          order=order)  # fmt: skip
        filled = line_rows(lines, images, policy, order.currency, date_formatter())
        assert all(isinstance(row, Markup) for row in filled)
        assert "".join(filled) == expected
