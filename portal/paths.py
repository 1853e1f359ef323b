"""A page's links without url_for per link: url_for costs ~5-10 µs a call, and a list page
links each of its rows once or twice, a return's page a dozen of its URLs. The path around
each value is worked out once per process, endpoint, keys and application root; a value that
url_for would quote (or put in the query string) goes through url_for itself. Shopper and
staff pages use it alike."""

import re

from flask import request, url_for

# Characters url_for leaves as they are in a path segment (unreserved ones, RFC 3986).
_AS_IS = re.compile(r"[A-Za-z0-9_.~-]+")
_SENTINEL = "PATHFORSENTINEL"


class PathFor:
    """url_for(endpoint, **{key: value}) for any value, for a page's many rows: the path around
    the value is worked out once per process (path_for's pieces, in a request); a value
    with characters url_for would quote goes through url_for itself."""

    def __init__(self, endpoint, key="number"):
        self.endpoint, self.key = endpoint, key
        pieces = _kept_pieces(endpoint, ((key, False),))
        self.before, self.after = (pieces[0], pieces[1][0][1]) if pieces else (None, None)

    def __call__(self, value):
        value = value if type(value) is str else str(value)
        if self.before is None or not _as_is(value):
            return url_for(self.endpoint, **{self.key: value})
        return self.before + value + self.after


def path_for(endpoint, **values):
    """url_for(endpoint, **values) for a page's own links (a template global): the path's
    pieces around each value worked out once per process, endpoint, keys and application root;
    a value url_for would quote (or a key it would put in the query string) goes through
    url_for itself."""
    pieces = _kept_pieces(endpoint, tuple((name, type(value) is int)
                                          for name, value in values.items()))  # fmt: skip
    if not pieces:
        return url_for(endpoint, **values)
    out = [pieces[0]]
    for name, after in pieces[1]:
        value = values[name]
        if type(value) is int:
            if value < 0:
                return url_for(endpoint, **values)
            value = str(value)
        elif not (type(value) is str and _as_is(value)):
            return url_for(endpoint, **values)
        out.append(value)
        out.append(after)
    return "".join(out)


def _as_is(text):
    """Whether url_for puts `text` in a path as it is."""
    return (text.isascii() and text.isalnum()) or _AS_IS.fullmatch(text) is not None


def _kept_pieces(endpoint, keys):
    """_pieces(endpoint, keys), kept per process and application root."""
    key = (endpoint, keys, request.script_root)
    pieces = _PATHS.get(key)
    if pieces is None:
        pieces = _PATHS[key] = _pieces(endpoint, keys)
    return pieces


def _pieces(endpoint, keys):
    """(the path before the first value, [(key, the path after its value)]) of `endpoint`'s
    path for values of these keys (ints or strings), or False (url_for each time: a value
    lands in the query string, twice, or the route takes no such value)."""
    marks = {name: (_INT_MARK + n if is_int else f"{_SENTINEL}{n}X")
             for n, (name, is_int) in enumerate(keys)}  # fmt: skip
    try:
        built = url_for(endpoint, **marks)
    except Exception:  # a string where the route wants an int: url_for says so each time
        return False
    found = re.split(f"{_SENTINEL}(\\d+)X|{_INT_MARK // 1000}(\\d{{3}})", built)
    if "?" in built or len(found) != 3 * len(keys) + 1:
        return False
    names = [name for name, _ in keys]
    pieces = []
    for n in range(len(keys)):
        text_n, int_n, after = found[1 + 3 * n : 4 + 3 * n]
        pieces.append((names[int(text_n if text_n is not None else int_n)], after))
    return found[0], pieces


_PATHS = {}
_INT_MARK = 7_770_431_000  # an int no real id is (its last three digits: the value's place)
