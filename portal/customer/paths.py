"""A page's links to many orders (or returns) without url_for per row: url_for costs ~10 µs a
call, and a list page links each of its rows once or twice."""

import re

from flask import url_for

# Characters url_for leaves as they are in a path segment (unreserved ones, RFC 3986).
_AS_IS = re.compile(r"[A-Za-z0-9_.~-]+")
_SENTINEL = "PATHFORSENTINEL"


class PathFor:
    """url_for(endpoint, **{key: value}) for any value, built once per page: the path around
    the value is worked out on the first call (in a request or app context); a value with
    characters url_for would quote goes through url_for itself."""

    def __init__(self, endpoint, key="number"):
        self.endpoint, self.key = endpoint, key
        before, _, after = url_for(endpoint, **{key: _SENTINEL}).rpartition(_SENTINEL)
        self.before, self.after = before, after

    def __call__(self, value):
        value = value if type(value) is str else str(value)
        if (value.isascii() and value.isalnum()) or _AS_IS.fullmatch(value):
            return self.before + value + self.after
        return url_for(self.endpoint, **{self.key: value})
