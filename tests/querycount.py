"""Count the SQL statements the app runs: `with count_queries() as q: ...; assert q.count == 3`.

It wraps `execute_sql` on the database behind portal.db.db (the proxy), so it sees every query
Peewee runs in any thread (transaction BEGIN/COMMIT go through the cursor directly and are not
counted). Statements are kept in `q.statements` to make a failing assertion easy to read.
"""

import threading
from contextlib import contextmanager

from portal.db import db


class QueryCounter:
    def __init__(self):
        self.statements = []
        self._lock = threading.Lock()

    def record(self, sql):
        with self._lock:
            self.statements.append(sql)

    @property
    def count(self):
        return len(self.statements)

    def __len__(self):
        return self.count

    def __repr__(self):
        listing = "\n".join(f"  {i}. {sql}" for i, sql in enumerate(self.statements, 1))
        return f"<{self.count} queries>\n{listing}"


@contextmanager
def count_queries(database=None):
    """Count statements executed on `database` (default: the portal's database)."""
    target = database if database is not None else db
    target = getattr(target, "obj", target)  # a DatabaseProxy: wrap the real database
    if target is None:
        raise RuntimeError("the database is not initialised; create the app first")
    counter = QueryCounter()
    shadowed = vars(target).get("execute_sql")  # another counter already wrapping it
    original = target.execute_sql

    def execute_sql(sql, params=None, *args, **kwargs):
        counter.record(sql)
        return original(sql, params, *args, **kwargs)

    target.execute_sql = execute_sql
    try:
        yield counter
    finally:
        if shadowed is None:
            del target.execute_sql  # back to the class's method
        else:
            target.execute_sql = shadowed
