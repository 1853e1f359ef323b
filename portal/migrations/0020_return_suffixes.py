# Written by hand (the schema diff can't describe triggers). Issue 17, SQLite only: the queue's
# search for part of a reference, an order number or an email reads a B-tree of suffixes
# instead of the FTS5 trigram table of migration 0005. A trigram query reads the posting lists
# of the term's trigrams, which grow with the store (about 12,000 returns hold "345" at
# 1,000,000 returns: 1.5 ms for "2025-213455", 24 ms for "shopper48387"); a term is a prefix of
# a suffix of the text that contains it, so `suffix >= term AND suffix < term + U+10FFFF` on
# (suffix, return id) finds the matches in a few page reads at any size (5 us).
#
# return_suffix holds every suffix of three characters or more of the four texts, lower-cased
# (SQLite's lower(): ASCII letters; emails are stored lower-case already), once per return;
# search_position numbers a text's starting positions (triggers can't use a WITH RECURSIVE).
# Triggers on "return" and "order" keep it in the writing transaction, whatever wrote the row.
# PostgreSQL keeps its trigram indexes (migration 0005).
import importlib.util
from pathlib import Path

from peewee import *

LONGEST = 255  # CharField's length: no text the suffixes are taken of is longer


def _add(r, o, where=""):
    return f"""INSERT OR IGNORE INTO "return_suffix" ("suffix", "rma_id")
               SELECT substr(lower(x."t"), p."n"), x."id" FROM (
                 {_texts_of_rows(r, o, where)}) AS x
               JOIN "search_position" AS p ON p."n" <= length(x."t") - 2"""


def _texts_of_rows(r, o, where):
    """(id, t) of every text of the returns `r` joined to their orders `o` (a trigger's NEW or
    OLD row stands in for one side when `where` says so)."""
    parts = [f'{r}."reference"', f'{r}."email"', f'{o}."number"', f'{o}."email"']
    return " UNION ALL ".join(f'SELECT {r}."id" AS "id", {part} AS "t" {where}' for part in parts)


def _remove(rma_id, texts):
    """Delete the suffixes of `texts` (a subquery of rows "t") of the returns `rma_id` is (an id,
    or IN and a subquery of ids): one primary-key lookup per suffix and return."""
    return f"""DELETE FROM "return_suffix" WHERE "rma_id" {rma_id} AND "suffix" IN (
                 SELECT substr(lower(x."t"), p."n") FROM ({texts}) AS x
                 JOIN "search_position" AS p ON p."n" <= length(x."t") - 2)"""


NEW_ORDER = 'FROM "order" AS o WHERE o."id" = NEW."order_id"'
ORDER_RETURNS = 'FROM "return" AS r WHERE r."order_id" = NEW."id"'
OLD_TEXTS = """SELECT OLD."reference" AS "t" UNION ALL SELECT OLD."email"
               UNION ALL SELECT o."number" FROM "order" AS o WHERE o."id" = OLD."order_id"
               UNION ALL SELECT o."email" FROM "order" AS o WHERE o."id" = OLD."order_id"
"""
ORDER_RETURN_IDS = 'IN (SELECT "id" FROM "return" WHERE "order_id" = NEW."id")'
OLD_ORDER_TEXTS = 'SELECT OLD."number" AS "t" UNION ALL SELECT OLD."email"'

SQLITE_UP = [
    'CREATE TABLE "search_position" ("n" INTEGER NOT NULL PRIMARY KEY)',
    f"""WITH RECURSIVE s("n") AS (SELECT 1 UNION ALL SELECT "n" + 1 FROM s WHERE "n" < {LONGEST})
        INSERT INTO "search_position" ("n") SELECT "n" FROM s""",
    """CREATE TABLE "return_suffix" ("suffix" TEXT NOT NULL, "rma_id" INTEGER NOT NULL,
                                     PRIMARY KEY ("suffix", "rma_id")) WITHOUT ROWID""",
    _add("r", "o", 'FROM "return" AS r JOIN "order" AS o ON o."id" = r."order_id"'),
    f"""CREATE TRIGGER "return_suffix_insert" AFTER INSERT ON "return" BEGIN
          {_add("NEW", "o", NEW_ORDER)};
        END""",
    f"""CREATE TRIGGER "return_suffix_update"
        AFTER UPDATE OF "reference", "email", "order_id" ON "return" BEGIN
          {_remove('= OLD."id"', OLD_TEXTS)};
          {_add("NEW", "o", NEW_ORDER)};
        END""",
    f"""CREATE TRIGGER "return_suffix_delete" AFTER DELETE ON "return" BEGIN
          {_remove('= OLD."id"', OLD_TEXTS)};
        END""",
    f"""CREATE TRIGGER "return_suffix_order" AFTER UPDATE OF "number", "email" ON "order" BEGIN
          {_remove(ORDER_RETURN_IDS, OLD_ORDER_TEXTS)};
          {_add("r", "NEW", ORDER_RETURNS)};
        END""",
]
TRIGGERS = ("return_suffix_order", "return_suffix_delete", "return_suffix_update",
            "return_suffix_insert")  # fmt: skip


def _postgres(db):
    database = getattr(db, "obj", None) or db  # the app's DatabaseProxy, or a database
    return not database.__class__.__name__.startswith("Sqlite")


def _full_text():
    """Migration 0005, whose SQLite statements make (and drop) the full-text table."""
    path = Path(__file__).with_name("0005_return_search.py")
    spec = importlib.util.spec_from_file_location("return_search_0005", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def up(migrator, db):
    if _postgres(db):
        return
    for sql in _full_text().SQLITE_DOWN + SQLITE_UP:
        db.execute_sql(sql)


def down(migrator, db):
    if _postgres(db):
        return
    for sql in [f'DROP TRIGGER "{name}"' for name in TRIGGERS] + _full_text().SQLITE_UP:
        db.execute_sql(sql)
    db.execute_sql('DROP TABLE "return_suffix"')
    db.execute_sql('DROP TABLE "search_position"')
