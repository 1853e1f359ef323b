# Issue 16: the language a return was asked for in (a guest has no account to keep one): its
# emails to the shopper are written in it when their address has no account.
from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column("return", "locale", CharField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("return", "locale"))
