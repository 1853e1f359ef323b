"""Flask commands: db upgrade/status/generate (init-db), seed-demo, import-orders, create-user."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from portal import migrate
from portal.importer import import_lines
from portal.models import User
from portal.returns.accounts import MIN_PASSWORD
from portal.returns.accounts import create_user as make_user
from portal.seed import DEMO_PASSWORD, SHOPPERS, STAFF
from portal.seed import seed_demo as run_seed

db_cli = AppGroup("db", help="Database schema migrations.")


@db_cli.command("upgrade")
def db_upgrade():
    """Apply pending migrations in place (creates the schema on an empty database)."""
    applied = migrate.upgrade()
    click.echo("applied: " + ", ".join(applied) if applied else "database is up to date.")


@db_cli.command("status")
def db_status():
    """List migrations; exits 1 when some are pending."""
    for m in migrate.runner().status():
        click.echo(f"[{'x' if m.applied else ' '}] {m.name}")
    if migrate.pending():
        sys.exit(1)


@db_cli.command("generate")
@click.argument("name")
def db_generate(name):
    """Write a migration for the difference between the models and the database."""
    path = migrate.generate(name)
    click.echo(path or "schema matches the models; nothing to generate.")


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the schema (same as `db upgrade`)."""
    applied = migrate.upgrade()
    click.echo("applied: " + ", ".join(applied) if applied else "database is up to date.")


@click.command("seed-demo")
@with_appcontext
@click.option("--orders", default=300, show_default=True, type=click.IntRange(1, 100000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when accounts already exist.")
def seed_demo(orders, seed, if_empty):
    """Fill an empty database with a demo store (never in production)."""
    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("seed-demo refuses to run when PORTAL_ENV=production.")
    if User.select().exists():
        if if_empty:
            click.echo("demo data already present.")
            return
        raise click.ClickException("the database already has accounts; seed an empty database.")
    summary = run_seed(orders=orders, seed=seed,
                       hash_method=current_app.config["PASSWORD_HASH_METHOD"])  # fmt: skip
    click.echo(
        f"seeded {summary['orders']} orders, {summary['returns']} returns, "
        f"{summary['shoppers']} shoppers, staff:"
    )
    for email, _name, role in STAFF:
        click.echo(f"  {role:8} {email}")
    click.echo(f"  shopper  {SHOPPERS[0][0]}, {SHOPPERS[1][0]}")
    click.echo(f"password for all: {DEMO_PASSWORD}")


@click.command("import-orders")
@with_appcontext
@click.argument("file", type=click.File("r", encoding="utf-8"))
def import_orders(file):
    """Import orders from a JSON-lines FILE (see docs/import-format.md)."""
    report = import_lines(file)
    for lineno, message in report.errors:
        click.echo(f"line {lineno}: {message}", err=True)
    products = f"{report.products} products and " if report.products else ""
    click.echo(f"imported {products}{report.imported} orders, {len(report.errors)} rejected.")
    if report.errors:
        sys.exit(1)


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--name", default="")
@click.option(
    "--role", type=click.Choice(["shopper", "agent", "manager", "admin"]), default="shopper"
)
@click.password_option(help="At least 10 characters; prompted for when not given.")
def create_user(email, name, role, password):
    """Create an account (shoppers get their earlier guest orders attached)."""
    email = User.normalize_email(email)
    if "@" not in email or "." not in email.split("@")[-1]:
        raise click.ClickException(f"{email!r} is not an email address.")
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"the password must be at least {MIN_PASSWORD} characters.")
    if User.by_email(email):
        raise click.ClickException(f"an account for {email} already exists.")
    user = make_user(email, password, name, role, current_app.config["PASSWORD_HASH_METHOD"])
    click.echo(f"created {user.role} {user.email}")


def init_app(app):
    for command in (db_cli, init_db, seed_demo, import_orders, create_user):
        app.cli.add_command(command)
