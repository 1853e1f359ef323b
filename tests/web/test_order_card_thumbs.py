"""The order list's line of pictures and titles (portal/customer/orders.py _thumbs) is what
the template's loop rendered, for any titles and picture URLs (hypothesis)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.customer.orders import _thumbs

LOOP = ('{% for title, picture in shown %}{% if picture %}<img src="{{ picture }}" alt="" '
        'width="40" height="40" loading="lazy" class="thumb"> {% endif %}{{ title }}'
        '{% if not loop.last %}, {% endif %}{% endfor %}{% if more %}, …{% endif %}')  # fmt: skip
TEXT = st.text(alphabet=st.sampled_from("ab <>&\"'é/:."), max_size=12)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(shown=st.lists(st.tuples(TEXT, st.one_of(st.none(), TEXT)), max_size=3), more=st.booleans())
def test_the_thumbs_are_the_loops(app, shown, more):
    template = app.jinja_env.from_string(LOOP)
    assert str(_thumbs(shown, more)) == template.render(shown=shown, more=more)
