# Generated from a schema diff on 2026-12-01 (issue 15, security hardening): the session
# generation, the per-account sign-in lock and two-factor sign-in on user; emailed single-use
# tokens (password reset, unlock), recovery codes and rotating remember-me tokens, stored as
# hashes; the limit above which an additional refund value waits for a second manager.
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class AccountToken(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        purpose = CharField()
        token_hash = CharField(unique=True)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "account_token"

    db.create_tables([AccountToken])

    class RecoveryCode(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        code_hash = CharField(unique=True)
        created_at = DateTimeField()
        used_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "recovery_code"

    db.create_tables([RecoveryCode])

    class RememberToken(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        selector = CharField(unique=True)
        validator_hash = CharField()
        previous_hash = CharField(null=True)
        rotated_at = DateTimeField(null=True)
        session_version = IntegerField()
        created_at = DateTimeField()
        expires_at = DateTimeField()

        class Meta:
            database = db
            table_name = "remember_token"

    db.create_tables([RememberToken])

    migrator.migrate(migrator.add_column("user", "session_version", IntegerField(default=1)))
    migrator.migrate(migrator.add_column("user", "failed_logins", IntegerField(default=0)))
    migrator.migrate(migrator.add_column("user", "locked_until", DateTimeField(null=True)))
    migrator.migrate(migrator.add_column("user", "lock_count", IntegerField(default=0)))
    migrator.migrate(migrator.add_column("user", "totp_secret", CharField(null=True)))
    migrator.migrate(migrator.add_column("user", "totp_enabled_at", DateTimeField(null=True)))
    migrator.migrate(migrator.add_column("user", "totp_last_step", BigIntegerField(null=True)))
    migrator.migrate(
        migrator.add_column(
            "return_policy",
            "additional_approval_limit",
            IntegerField(null=True, constraints=[SQL("CHECK (additional_approval_limit >= 0)")]),
        )
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("return_policy", "additional_approval_limit"))
    migrator.migrate(migrator.drop_column("user", "totp_last_step"))
    migrator.migrate(migrator.drop_column("user", "totp_enabled_at"))
    migrator.migrate(migrator.drop_column("user", "totp_secret"))
    migrator.migrate(migrator.drop_column("user", "lock_count"))
    migrator.migrate(migrator.drop_column("user", "locked_until"))
    migrator.migrate(migrator.drop_column("user", "failed_logins"))
    migrator.migrate(migrator.drop_column("user", "session_version"))
    migrator.migrate(migrator.drop_table("remember_token"))
    migrator.migrate(migrator.drop_table("recovery_code"))
    migrator.migrate(migrator.drop_table("account_token"))
