# Generated from a schema diff on 2026-11-22 01:47; the partial index is written out by hand
# (the diff can't describe one). Why each index: docs/performance.md.
from peewee import *

STAFF_INDEX = (
    'CREATE INDEX "user_staff_by_name" ON "user" ("name", "email") WHERE ("role" != \'shopper\')'
)


def up(migrator, db):
    migrator.migrate(migrator.drop_index("return", "return_status"))
    migrator.migrate(migrator.drop_index("refund", "refund_status"))
    migrator.migrate(migrator.add_index("return", ("status", "created_at")))
    migrator.migrate(migrator.add_index("refund", ("status", "rma_id")))
    db.execute_sql(STAFF_INDEX)


def down(migrator, db):
    db.execute_sql('DROP INDEX "user_staff_by_name"')
    migrator.migrate(migrator.drop_index("refund", "refund_status_rma_id"))
    migrator.migrate(migrator.drop_index("return", "return_status_created_at"))
    migrator.migrate(migrator.add_index("refund", ("status",)))
    migrator.migrate(migrator.add_index("return", ("status",)))
