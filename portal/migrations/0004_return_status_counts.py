# Written by hand: the schema diff can't describe triggers. Why: docs/performance.md (the
# queue's status tabs counted every return on every page; at 1,000,000 returns that alone took
# longer than the rest of the page).
#
# return_status_count holds how many returns are in each status. Triggers on "return" keep it
# exact in the same transaction as the change, whatever writes the row (the domain, a CLI
# import, a bulk load). On PostgreSQL the two counter rows of a status change are updated in
# name order, so two transactions moving returns between the same statuses in opposite
# directions can't deadlock on them.
from peewee import *

SQLITE_UP = [
    """CREATE TRIGGER "return_status_count_insert" AFTER INSERT ON "return" BEGIN
         INSERT INTO "return_status_count" ("status", "count") VALUES (NEW."status", 1)
         ON CONFLICT ("status") DO UPDATE SET "count" = "count" + 1;
       END""",
    """CREATE TRIGGER "return_status_count_delete" AFTER DELETE ON "return" BEGIN
         UPDATE "return_status_count" SET "count" = "count" - 1 WHERE "status" = OLD."status";
       END""",
    """CREATE TRIGGER "return_status_count_update" AFTER UPDATE OF "status" ON "return"
       WHEN OLD."status" IS NOT NEW."status" BEGIN
         UPDATE "return_status_count" SET "count" = "count" - 1 WHERE "status" = OLD."status";
         INSERT INTO "return_status_count" ("status", "count") VALUES (NEW."status", 1)
         ON CONFLICT ("status") DO UPDATE SET "count" = "count" + 1;
       END""",
]
SQLITE_DOWN = [
    'DROP TRIGGER "return_status_count_update"',
    'DROP TRIGGER "return_status_count_delete"',
    'DROP TRIGGER "return_status_count_insert"',
]
POSTGRES_UP = [
    """CREATE FUNCTION "return_status_count_change"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND NEW."status" < OLD."status" THEN
        INSERT INTO "return_status_count" ("status", "count") VALUES (NEW."status", 1)
        ON CONFLICT ("status") DO UPDATE SET "count" = "return_status_count"."count" + 1;
        UPDATE "return_status_count" SET "count" = "count" - 1 WHERE "status" = OLD."status";
        RETURN NULL;
      END IF;
      IF TG_OP <> 'INSERT' THEN
        UPDATE "return_status_count" SET "count" = "count" - 1 WHERE "status" = OLD."status";
      END IF;
      IF TG_OP <> 'DELETE' THEN
        INSERT INTO "return_status_count" ("status", "count") VALUES (NEW."status", 1)
        ON CONFLICT ("status") DO UPDATE SET "count" = "return_status_count"."count" + 1;
      END IF;
      RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER "return_status_count_insert_delete" AFTER INSERT OR DELETE ON "return"
       FOR EACH ROW EXECUTE FUNCTION "return_status_count_change"()""",
    """CREATE TRIGGER "return_status_count_update" AFTER UPDATE OF "status" ON "return"
       FOR EACH ROW WHEN (OLD."status" IS DISTINCT FROM NEW."status")
       EXECUTE FUNCTION "return_status_count_change"()""",
]
POSTGRES_DOWN = [
    'DROP TRIGGER "return_status_count_update" ON "return"',
    'DROP TRIGGER "return_status_count_insert_delete" ON "return"',
    'DROP FUNCTION "return_status_count_change"()',
]
BACKFILL = """INSERT INTO "return_status_count" ("status", "count")
              SELECT "status", COUNT(*) FROM "return" GROUP BY "status\""""


def _postgres(db):
    database = getattr(db, "obj", None) or db  # the app's DatabaseProxy, or a database
    return not database.__class__.__name__.startswith("Sqlite")


def up(migrator, db):
    class ReturnStatusCount(Model):
        status = CharField(primary_key=True)
        count = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "return_status_count"

    db.create_tables([ReturnStatusCount])
    for sql in POSTGRES_UP if _postgres(db) else SQLITE_UP:
        db.execute_sql(sql)
    db.execute_sql(BACKFILL)


def down(migrator, db):
    for sql in POSTGRES_DOWN if _postgres(db) else SQLITE_DOWN:
        db.execute_sql(sql)
    db.execute_sql('DROP TABLE "return_status_count"')
