# Written by hand on 2026-12-01. Photos kept with a return request's draft (issue 16): a form
# that comes back with an error keeps the photos already chosen.
from peewee import *


def up(migrator, db):
    class OrderLine(Model):
        class Meta:
            database = db
            table_name = "order_line"

    class DraftPhoto(Model):
        token = CharField(index=True)
        order_line = ForeignKeyField(OrderLine, on_delete="CASCADE")
        stored_name = CharField(unique=True)
        content_type = CharField()
        size = IntegerField()
        original_name = CharField(default="")
        created_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = "draft_photo"

    db.create_tables([DraftPhoto])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("draft_photo"))
