# Written by hand: the schema diff can't describe a full-text table, triggers or trigram
# indexes. Why: docs/performance.md (searching the queue for part of a reference or an email
# read every return and its order: 5.6 s at 1,000,000 returns on SQLite).
#
# SQLite: return_search, an FTS5 table with the trigram tokenizer holding each return's
# reference, order number and both emails (rowid = the return's id), kept by triggers on
# "return" and "order" in the writing transaction and backfilled here.
# PostgreSQL: pg_trgm GIN indexes on the same four columns; the queue searches each table with
# its own indexes (portal/merchant/queue.py).
from peewee import *

TEXT = """{r}."reference" || ' ' || {o}."number" || ' ' || {r}."email" || ' ' || {o}."email\""""

SQLITE_UP = [
    """CREATE VIRTUAL TABLE "return_search" USING fts5("text", tokenize = 'trigram')""",
    f"""INSERT INTO "return_search" ("rowid", "text")
        SELECT r."id", {TEXT.format(r="r", o="o")} FROM "return" AS r
        JOIN "order" AS o ON o."id" = r."order_id\"""",
    f"""CREATE TRIGGER "return_search_insert" AFTER INSERT ON "return" BEGIN
          INSERT INTO "return_search" ("rowid", "text")
          SELECT NEW."id", {TEXT.format(r="NEW", o="o")} FROM "order" AS o
          WHERE o."id" = NEW."order_id";
        END""",
    f"""CREATE TRIGGER "return_search_update"
        AFTER UPDATE OF "reference", "email", "order_id" ON "return" BEGIN
          DELETE FROM "return_search" WHERE "rowid" = OLD."id";
          INSERT INTO "return_search" ("rowid", "text")
          SELECT NEW."id", {TEXT.format(r="NEW", o="o")} FROM "order" AS o
          WHERE o."id" = NEW."order_id";
        END""",
    """CREATE TRIGGER "return_search_delete" AFTER DELETE ON "return" BEGIN
         DELETE FROM "return_search" WHERE "rowid" = OLD."id";
       END""",
    f"""CREATE TRIGGER "return_search_order" AFTER UPDATE OF "number", "email" ON "order" BEGIN
          DELETE FROM "return_search"
          WHERE "rowid" IN (SELECT "id" FROM "return" WHERE "order_id" = NEW."id");
          INSERT INTO "return_search" ("rowid", "text")
          SELECT r."id", {TEXT.format(r="r", o="NEW")} FROM "return" AS r
          WHERE r."order_id" = NEW."id";
        END""",
]
SQLITE_DOWN = [
    'DROP TRIGGER "return_search_order"',
    'DROP TRIGGER "return_search_delete"',
    'DROP TRIGGER "return_search_update"',
    'DROP TRIGGER "return_search_insert"',
    'DROP TABLE "return_search"',
]
POSTGRES_INDEXES = [
    ("return_reference_trgm", "return", "reference"),
    ("return_email_trgm", "return", "email"),
    ("order_number_trgm", "order", "number"),
    ("order_email_trgm", "order", "email"),
]


def _postgres(db):
    database = getattr(db, "obj", None) or db  # the app's DatabaseProxy, or a database
    return not database.__class__.__name__.startswith("Sqlite")


def up(migrator, db):
    if not _postgres(db):
        for sql in SQLITE_UP:
            db.execute_sql(sql)
        return
    db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in POSTGRES_INDEXES:
        db.execute_sql(f'CREATE INDEX "{name}" ON "{table}" USING gin ("{column}" gin_trgm_ops)')


def down(migrator, db):
    if not _postgres(db):
        for sql in SQLITE_DOWN:
            db.execute_sql(sql)
        return
    for name, _, _ in POSTGRES_INDEXES:
        db.execute_sql(f'DROP INDEX "{name}"')
