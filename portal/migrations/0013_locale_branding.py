# Issue 16 (part A): each account's language, the German label of each return reason, and the
# store's look (name, logo, accent colour) in a table of its own.
from peewee import *


def up(migrator, db):
    class StoreLook(Model):
        name = CharField(default="Returns Portal")
        accent = CharField(default="#0b5cad")
        logo = BlobField(null=True)
        logo_type = CharField(default="")
        version = IntegerField(default=1)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "store_look"

    db.create_tables([StoreLook])
    migrator.migrate(migrator.add_column("user", "locale", CharField(null=True)))
    migrator.migrate(migrator.add_column("return_reason", "label_de", CharField(default="")))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("return_reason", "label_de"))
    migrator.migrate(migrator.drop_column("user", "locale"))
    migrator.migrate(migrator.drop_table("store_look"))
