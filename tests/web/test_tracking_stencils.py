"""The tracking page's lines filled from their stencil (portal/customer/tracking.py line_rows)
are what the page's loop over its lines rendered before (kept here as the reference), for any
line: bundle parts, variants, exchanges and claims, kept items, lines rejected at inspection,
notes, photos, reasons in English and German, any text (hypothesis); and so is the refund's
estimate before any refund, with its extra lines, and the page's top (heading, facts, note, what
happens next) for a shopper and a guest."""

import datetime
from types import SimpleNamespace as NS

from flask import render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from portal.customer.tracking import estimate_html, head_html, line_rows
from portal.customer.words import moment_formatter, money_formatter, translated_formatter
from portal.returns.marks import N_, Money

# The loop of customer/return.html before its lines became a stencil, as it was.
REFERENCE = """{% with _ = page_gettext() %}{% for line in page.lines %}
    <tr>
      <td>{{ line.order_line.title }}{% if page.bundles.get(line.order_line.id) %}<br><span class="muted small">{% trans title=page.bundles[line.order_line.id].title %}Part of {{ title }}{% endtrans %}</span>{% endif %}{% if line.order_line.variant_text %}<br><span class="muted small">{{ line.order_line.variant_text }}</span>{% endif %}
        {% if line.swap %}<br><span class="small exchange-for">{{ _("Replacement:") if page.claim else _("Exchange for") }} {{ line.swap.variant.product.title }} — {{ line.swap.variant.title }}</span>{% endif %}
        {% if line.kept %}<br><span class="small">{{ _("You keep it: nothing to send back.") }}</span>{% endif %}
        {% if line.inspection == "rejected" %}<p class="error small rejected-line">{{ _("Not accepted after inspection:") }} {{ line.inspection_note }}</p>{% endif %}
        {% if line.note %}<br><span class="small">{{ _("Your note:") }} “{{ line.note }}”</span>{% endif %}
        {% if page.photos.get(line.id) %}<br>{% for photo in page.photos[line.id] %}<a class="small" href="{{ path_for('customer.return_photo', reference=rma.reference, photo_id=photo.id) }}">{% trans number=loop.index %}Photo {{ number }}{% endtrans %}</a>{% if not loop.last %}, {% endif %}{% endfor %}{% endif %}
      </td>
      <td data-label="{{ _('Reason') }}">{{ line.reason|reason_label }}</td>
      <td class="num" data-label="{{ _('Requested') }}">{{ line.quantity }}</td>
      <td class="num" data-label="{{ _('Received') }}">{{ line.received_quantity }}</td>
      <td class="num" data-label="{{ _('Refunded') }}">{{ page.refunded.get(line.id, 0) }}</td>
    </tr>
  {% endfor %}{% endwith %}"""  # noqa: E501

TEXT = st.text(alphabet=st.sampled_from("ab <>&\"'é#/:.0%\x01"), max_size=8)
MAYBE_TEXT = st.one_of(st.none(), TEXT, TEXT.map(Markup))
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@st.composite
def lines(draw):
    count = draw(st.integers(0, 4))
    made, bundles, photos, refunded = [], {}, {}, {}
    for n in range(count):
        line_id, order_line_id = 10 + n, 100 + n
        variant = draw(st.dictionaries(st.sampled_from(["size", "colour", "<b>"]), TEXT,
                                       max_size=2))  # fmt: skip
        if draw(st.booleans()):
            bundles[order_line_id] = NS(title=draw(TEXT))
        swap = None
        if draw(st.booleans()):
            swap = NS(variant=NS(title=draw(TEXT), product=NS(title=draw(TEXT))))
        if draw(st.booleans()):
            photos[line_id] = [NS(id=draw(st.integers(1, 10**6)))
                               for _ in range(draw(st.integers(1, 3)))]  # fmt: skip
        if draw(st.booleans()):
            refunded[line_id] = draw(st.integers(0, 9))
        reason = draw(st.one_of(st.none(), st.builds(NS, label=TEXT, label_de=TEXT)))
        made.append(NS(
            id=line_id,
            order_line=NS(id=order_line_id, title=draw(TEXT), variant=variant,
                          variant_text=", ".join(f"{k}: {v}" for k, v in sorted(variant.items()))),
            swap=swap, kept=draw(st.booleans()),
            inspection=draw(st.sampled_from([None, "accepted", "rejected"])),
            inspection_note=draw(MAYBE_TEXT), note=draw(MAYBE_TEXT), reason=reason,
            quantity=draw(st.integers(0, 9)), received_quantity=draw(st.integers(0, 9)),
        ))  # fmt: skip
    reference = draw(st.sampled_from(["RMA-2026-00001", "RMA 2026/1", "rma-ä"]))
    return NS(lines=made, bundles=bundles, photos=photos, refunded=refunded,
              claim=draw(st.booleans()), rma=NS(reference=reference))  # fmt: skip


@SETTINGS
@given(page=lines(), lang=st.sampled_from(["en", "de"]))
def test_the_lines_stencil_renders_what_the_pages_loop_did(app, page, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        expected = render_template_string(REFERENCE, page=page, rma=page.rma)
        filled = line_rows(page)
        assert all(isinstance(row, Markup) for row in filled)
        assert "".join(filled) == expected


# The estimate of customer/return.html before it became a stencil, as it was.
ESTIMATE = """{% with _ = page_gettext() %}{% with cur = rma.currency %}{% with breakdown = page.breakdown, estimate = page.estimate %}{% if breakdown %}(a refund){% elif estimate %}
<h2>{{ _("Estimated refund") }}</h2>
<dl class="breakdown">
  <div><dt>{{ _("Items") }}</dt><dd>{{ estimate.items|money(cur) }}</dd></div>
  {% if estimate.restocking %}<div><dt>{{ _("Restocking fee") }}</dt><dd>−{{ estimate.restocking|money(cur) }}</dd></div>{% endif %}
  {% if estimate.return_shipping %}<div><dt>{{ _("Return shipping fee") }}</dt><dd>−{{ estimate.return_shipping|money(cur) }}</dd></div>{% endif %}
  {% if estimate.shipping %}<div><dt>{{ _("Original shipping refunded") }}</dt><dd>+{{ estimate.shipping|money(cur) }}</dd></div>{% endif %}
  {% if estimate.exchange %}<div><dt>{{ _("Exchange difference refunded") }}</dt><dd>+{{ estimate.exchange|money(cur) }}</dd></div>{% endif %}
  {% for extra in page.extra_lines if not extra.refund_batch %}<div><dt>{{ extra.description }}</dt><dd>{{ "+" if extra.amount > 0 else "−" }}{{ extra.amount|abs|money(cur) }}</dd></div>{% endfor %}
  <div class="total"><dt>{{ _("Estimated refund") }}</dt><dd>{{ estimate.total|money(cur) }}</dd></div>
</dl>
<p class="muted small">{{ _("The final amount is confirmed once we have received and checked the items.") }}</p>
{% endif %}{% endwith %}{% endwith %}{% endwith %}"""  # noqa: E501

AMOUNT = st.one_of(st.just(0), st.integers(-(10**6), 10**7))


@st.composite
def estimates(draw):
    extras = [NS(description=draw(TEXT), amount=draw(st.one_of(st.just(0), st.integers(-9, 9))),
                 refund_batch=draw(st.sampled_from([None, "", "b1"])))
              for _ in range(draw(st.integers(0, 3)))]  # fmt: skip
    estimate = draw(st.one_of(st.none(), st.builds(
        NS, items=AMOUNT, restocking=AMOUNT, return_shipping=AMOUNT, shipping=AMOUNT,
        exchange=AMOUNT, total=AMOUNT)))  # fmt: skip
    breakdown = draw(st.sampled_from([None, {}, {"items": 100}]))
    currency = draw(st.sampled_from(["USD", "EUR", "JPY"]))
    return NS(estimate=estimate, breakdown=breakdown, extra_lines=extras,
              rma=NS(currency=currency))  # fmt: skip


@SETTINGS
@given(page=estimates(), lang=st.sampled_from(["en", "de"]))
def test_the_estimate_stencil_renders_what_the_page_did(app, page, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        expected = render_template_string(ESTIMATE, page=page, rma=page.rma)
        shown = estimate_html(page, money_formatter())
        if expected == "(a refund)":
            assert shown == ""
        else:
            assert isinstance(shown, Markup | str) and shown == expected


# The top of customer/return.html before it became a stencil, as it was.
HEAD = """{% with _ = page_gettext() %}<p><a href="{{ path_for('customer.returns') }}">← {{ _("My returns") if current_user.is_authenticated else _("Your returns") }}</a></p>
<h1>{{ page.what|translated }} {{ rma.reference }}</h1>
<dl class="facts">
  <div><dt>{{ _("Status") }}</dt><dd><span class="badge status-{{ rma.status }}" id="return-status">{{ page.status_label|translated }}</span></dd></div>
  <div><dt>{{ _("Order") }}</dt><dd><a href="{{ path_for('customer.order_detail', number=order.number) }}">#{{ order.number }}</a></dd></div>
  <div><dt>{{ _("Requested") }}</dt><dd><time datetime="{{ rma.created_at.isoformat() }}Z">{{ rma.created_at|moment(page.timezone) }}</time></dd></div>
  <div><dt>{{ _("Kind") if page.claim else _("Refund to") }}</dt><dd>{{ _("Claim (a problem on our side)") if page.claim else page.resolution|translated }}</dd></div>
</dl>
{% if rma.shopper_note %}<p class="shopper-note" id="shopper-note"><strong>{{ _("Your note:") }}</strong> “{{ rma.shopper_note }}”</p>{% endif %}

<section class="card next-step" aria-labelledby="next-heading">
  <h2 id="next-heading">{{ _("What happens next") }}</h2>
  {% for step in page.steps %}<p>{{ step|translated }}</p>{% endfor %}
  {% if page.can_cancel %}
  <div id="cancel-step">
    <a class="button danger" id="cancel-link" href="{{ path_for('customer.confirm_cancel', reference=rma.reference) }}"
       hx-get="{{ path_for('customer.confirm_cancel', reference=rma.reference) }}" hx-target="#cancel-step" hx-swap="innerHTML">{{ _("Cancel this return…") }}</a>
  </div>
  {% endif %}
</section>{% endwith %}"""  # noqa: E501

WORDS = st.sampled_from([N_("Requested"), N_("Return"), N_("Claim"), N_("Store credit"),
                         "not in the catalogue <&>", ""])  # fmt: skip
STEPS = st.one_of(WORDS, st.builds(lambda due: N_("It costs %(due)s more than you paid; we'll "
                                                   "contact you to pay it.", due=Money(due, "EUR")),
                                    st.integers(0, 10**5)))  # fmt: skip


@st.composite
def heads(draw):
    rma = NS(reference=draw(st.sampled_from(["RMA-2026-00001", "RMA 2026/1", "rma-ä"])),
             status=draw(st.sampled_from(["requested", "received", "<x>"])),
             created_at=draw(st.datetimes(min_value=datetime.datetime(2020, 1, 1),
                                          max_value=datetime.datetime(2030, 1, 1))),
             shopper_note=draw(MAYBE_TEXT))  # fmt: skip
    order = NS(number=draw(st.sampled_from(["100098160", "R-1 2", "ä<1>"])))
    return NS(rma=rma, order=order, what=draw(WORDS), status_label=draw(WORDS),
              claim=draw(st.booleans()), resolution=draw(WORDS),
              steps=draw(st.lists(STEPS, max_size=3)), can_cancel=draw(st.booleans()),
              timezone=draw(st.sampled_from(["UTC", "Europe/Berlin"])))  # fmt: skip


@SETTINGS
@given(page=heads(), signed_in=st.booleans(), lang=st.sampled_from(["en", "de"]))
def test_the_pages_top_stencil_renders_what_the_page_did(app, page, signed_in, lang):
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        expected = render_template_string(HEAD, page=page, rma=page.rma, order=page.order,
                                          current_user=NS(is_authenticated=signed_in))  # fmt: skip
        shown = head_html(page, signed_in, translated_formatter(), moment_formatter(page.timezone))
        assert isinstance(shown, Markup) and shown == expected
