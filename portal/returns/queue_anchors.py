"""Page anchors for the queue's deep pages: the sort key of every EVERY-th row of a list,
kept per process and database, so the page at row 900,000 starts from the anchor at row
900,000 (an indexed range, WHERE (created_at, id) <= (...)) instead of skipping 900,000 index
entries (OFFSET), which is what made deep pages grow with the store.

An anchor is exact: it was read at a returns write counter (migration 0019: triggers raise it
in the writing transaction, whatever wrote the return), and it is used only under the same
counter, which the queue reads with its tab counts (no query of its own). Any write to a
return starts a new set. A missing anchor is read with one statement, from the nearest lower
anchor of the same set when there is one. No Flask here."""

import threading

from portal.db import db

EVERY = 1000  # rows between anchors: a page skips fewer than this many index entries
KEEP = 64  # lists (filters, tab, sort, direction) kept per process before starting afresh

_lock = threading.Lock()


def start_of(key, version, offset, read):
    """(anchor, offset left): where a page `offset` rows into the list `key` starts. `anchor`
    is the sort key of row (offset // EVERY) * EVERY, or None (then `offset` is returned as
    it was: no counter, a shallow page, or a list shorter than it was counted). `read(anchor,
    skip)` gives the sort key of the row `skip` rows after `anchor`'s (or after the list's
    start when `anchor` is None), or None when there is no such row."""
    if version is None or offset < EVERY:
        return None, offset
    cache = db.obj.__dict__.setdefault("_queue_anchors", {})  # a new database, a new cache
    entry = cache.get(key)
    if entry is None or entry[0] != version:
        entry = (version, {})
        with _lock:
            if len(cache) >= KEEP:
                cache.clear()
            cache[key] = entry
    anchors = entry[1]
    number = offset // EVERY
    anchor = anchors.get(number)
    if anchor is None:
        below = max((n for n in anchors if n < number), default=None)
        start = anchors[below] if below is not None else None
        anchor = read(start, (number - (below or 0)) * EVERY)
        if anchor is None:
            return None, offset
        anchors[number] = anchor
    return anchor, offset - number * EVERY
