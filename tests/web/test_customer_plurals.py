"""portal/customer/plurals.py: the count a stencil is rendered for takes the same translation
as the row's own count, in English and German."""


def test_same_form_gives_a_count_of_the_same_plural_form(app):
    from portal.customer.plurals import PluralForms
    from portal.i18n import template_ngettext

    for lang in ("en", "de"):
        with app.test_request_context("/", headers={"Accept-Language": lang}):
            say = PluralForms()
            forms = [say.same_form("%(count)s item", "%(count)s items", n) for n in (3, 1, 7, 1, 0)]
            assert forms == [3, 1, 3, 1, 3]  # 0 and 7 take the plural, as 3 did first
            for n, form in zip((3, 1, 7, 1, 0), forms, strict=True):
                assert template_ngettext("%(count)s item", "%(count)s items", form) == (
                    template_ngettext("%(count)s item", "%(count)s items", n)
                )
