# Written by hand (the schema diff can't describe triggers). Issue 17: on SQLite, a second
# counter in cache_generation (id 2) that triggers raise, in the writing transaction, on every
# insert, update and delete of a return, whatever wrote it. The queue reads it with its tab
# counts (one query it makes anyway) and keeps the sort keys of its deep pages' anchors per
# process under it (portal/returns/queue_anchors.py), so a deep page skips a few hundred index
# entries instead of a hundred thousand, and any change to the returns shows on the next request.
# Not on PostgreSQL: there every transaction that writes a return would queue on the counter's
# row until it commits; its deep pages keep OFFSET.
from peewee import *

OPS = ("insert", "update", "delete")
BUMP = """INSERT INTO "cache_generation" ("id", "n") VALUES (2, 1)
          ON CONFLICT ("id") DO UPDATE SET "n" = "n" + 1"""


def _postgres(db):
    database = getattr(db, "obj", None) or db  # the app's DatabaseProxy, or a database
    return not database.__class__.__name__.startswith("Sqlite")


def up(migrator, db):
    if _postgres(db):
        return
    db.execute_sql('INSERT INTO "cache_generation" ("id", "n") VALUES (2, 0)')
    for op in OPS:
        db.execute_sql(f'CREATE TRIGGER "return_writes_{op}" AFTER {op.upper()} ON "return" '
                       f"BEGIN {BUMP}; END")  # fmt: skip


def down(migrator, db):
    if _postgres(db):
        return
    for op in OPS:
        db.execute_sql(f'DROP TRIGGER "return_writes_{op}"')
    db.execute_sql('DELETE FROM "cache_generation" WHERE "id" = 2')
