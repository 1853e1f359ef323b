"""The tracking page's lines filled from their stencil (portal/customer/tracking.py line_rows)
are what the page's loop over its lines rendered before (kept here as the reference), for any
line: bundle parts, variants, exchanges and claims, kept items, lines rejected at inspection,
notes, photos, reasons in English and German, any text (hypothesis)."""

from types import SimpleNamespace as NS

from flask import render_template_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from portal.customer.tracking import line_rows

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
