# Written by hand (the schema diff can't describe triggers). Issue 17, two additions:
#
# 1. refund.lease_expires_at: a worker's claim on a `processing` refund is a lease it renews
#    while the gateway call runs; another worker may take the refund over once it has expired
#    (portal/returns/refund_execution.py, docs/architecture.md).
# 2. cache_generation: one counter that triggers raise, in the same transaction, whenever what
#    the pages' pickers show changes (staff: a staff account's name, email, role or active
#    flag; return reasons; inventory locations). Each process caches the pickers with the
#    counter they were read at, and reads the counter with the signed-in user (one query it
#    makes anyway), so a change shows on the next request, whatever wrote it.
from peewee import *

WATCHED = {  # table: (the columns an UPDATE must touch, a row condition or None)
    "user": ('"name", "email", "role", "active"', "ROW.\"role\" != 'shopper'"),
    "return_reason": (None, None),
    "inventory_location": (None, None),
}
BUMP_SQLITE = """INSERT INTO "cache_generation" ("id", "n") VALUES (1, 1)
                 ON CONFLICT ("id") DO UPDATE SET "n" = "n" + 1"""
BUMP_POSTGRES = """INSERT INTO "cache_generation" ("id", "n") VALUES (1, 1)
                   ON CONFLICT ("id") DO UPDATE SET "n" = "cache_generation"."n" + 1"""


def _postgres(db):
    database = getattr(db, "obj", None) or db  # the app's DatabaseProxy, or a database
    return not database.__class__.__name__.startswith("Sqlite")


def _sqlite_triggers(table, columns, condition):
    for op, row in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", None)):
        event = f"UPDATE OF {columns}" if op == "UPDATE" and columns else op
        if condition is None:
            when = ""
        elif row:
            when = "WHEN " + condition.replace("ROW.", f"{row}.")
        else:
            when = (
                f"WHEN {condition.replace('ROW.', 'OLD.')} OR {condition.replace('ROW.', 'NEW.')}"
            )
        yield (f'CREATE TRIGGER "{table}_cache_generation_{op.lower()}" AFTER {event} ON "{table}" '
               f"{when} BEGIN {BUMP_SQLITE}; END")  # fmt: skip


def _postgres_triggers(table, columns, condition):
    for op, row in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", None)):
        event = f"UPDATE OF {columns}" if op == "UPDATE" and columns else op
        if condition is None:
            when = ""
        elif row:
            when = "WHEN (" + condition.replace("ROW.", f"{row}.") + ")"
        else:
            old, new = condition.replace("ROW.", "OLD."), condition.replace("ROW.", "NEW.")
            when = f"WHEN ({old} OR {new})"
        yield (f'CREATE TRIGGER "{table}_cache_generation_{op.lower()}" AFTER {event} ON "{table}" '
               f'FOR EACH ROW {when} EXECUTE FUNCTION "cache_generation_bump"()')  # fmt: skip


def up(migrator, db):
    class CacheGeneration(Model):
        n = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "cache_generation"

    if _postgres(db):
        migrator.migrate(
            migrator.add_column("refund", "lease_expires_at", DateTimeField(null=True))
        )
    else:
        db.execute_sql('ALTER TABLE "refund" ADD COLUMN "lease_expires_at" DATETIME')
    db.create_tables([CacheGeneration])
    db.execute_sql('INSERT INTO "cache_generation" ("id", "n") VALUES (1, 0)')
    if _postgres(db):
        db.execute_sql(f"""CREATE FUNCTION "cache_generation_bump"() RETURNS trigger
                           LANGUAGE plpgsql AS $$ BEGIN {BUMP_POSTGRES}; RETURN NULL; END $$""")
    for table, (columns, condition) in WATCHED.items():
        make = _postgres_triggers if _postgres(db) else _sqlite_triggers
        for sql in make(table, columns, condition):
            db.execute_sql(sql)


def down(migrator, db):
    for table in WATCHED:
        for op in ("insert", "delete", "update"):
            on = f' ON "{table}"' if _postgres(db) else ""
            db.execute_sql(f'DROP TRIGGER "{table}_cache_generation_{op}"{on}')
    if _postgres(db):
        db.execute_sql('DROP FUNCTION "cache_generation_bump"()')
    db.execute_sql('DROP TABLE "cache_generation"')
    migrator.migrate(migrator.drop_column("refund", "lease_expires_at"))
