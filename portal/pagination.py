"""Page-number pagination over a Peewee query."""

from dataclasses import dataclass

from peewee import prefetch


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self):
        return self.number > 1

    @property
    def has_next(self):
        return self.number < self.pages


def page_number(raw):
    """A page number from a query string; anything odd means page 1."""
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


def paginate(query, number, per_page, *prefetch_models):
    """One page of `query`; related rows in `prefetch_models` load in one query each."""
    total = query.count()
    page_query = query.paginate(number, per_page)
    items = list(prefetch(page_query, *prefetch_models) if prefetch_models else page_query)
    return Page(items=items, number=number, per_page=per_page, total=total)
