# Written by hand (the schema diff can't describe triggers). Issue 17: the return policy joins
# what the cache-generation counter watches (migration 0016), so each process can keep the
# policy row (portal/returns/pickers.py return_policy) and every page that needs it still sees
# a change on its next request, whatever wrote it (the settings page, the CLI, raw SQL).
from peewee import *

TABLE = "return_policy"
OPS = ("insert", "update", "delete")
BUMP_SQLITE = """INSERT INTO "cache_generation" ("id", "n") VALUES (1, 1)
                 ON CONFLICT ("id") DO UPDATE SET "n" = "n" + 1"""


def _postgres(db):
    database = getattr(db, "obj", None) or db  # the app's DatabaseProxy, or a database
    return not database.__class__.__name__.startswith("Sqlite")


def up(migrator, db):
    for op in OPS:
        name = f'"{TABLE}_cache_generation_{op}"'
        if _postgres(db):  # cache_generation_bump() is migration 0016's
            db.execute_sql(f'CREATE TRIGGER {name} AFTER {op.upper()} ON "{TABLE}" '
                           'FOR EACH ROW EXECUTE FUNCTION "cache_generation_bump"()')  # fmt: skip
        else:
            db.execute_sql(f'CREATE TRIGGER {name} AFTER {op.upper()} ON "{TABLE}" '
                           f"BEGIN {BUMP_SQLITE}; END")  # fmt: skip


def down(migrator, db):
    for op in OPS:
        on = f' ON "{TABLE}"' if _postgres(db) else ""
        db.execute_sql(f'DROP TRIGGER "{TABLE}_cache_generation_{op}"{on}')
