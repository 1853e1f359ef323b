"""Schema migrations: playhouse.migrations files under portal/migrations, applied in place.

`flask --app wsgi db upgrade` applies pending files; `db generate NAME` writes a new file from the
difference between the models and the database (frozen model copies, CHECK constraints kept).
"""

from pathlib import Path

from playhouse import migrations as pw_migrations
from playhouse.schema_diff import diff_models

from portal.db import db
from portal.models import ALL_MODELS

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def runner():
    return pw_migrations.Runner(db, MIGRATIONS_DIR)


def upgrade(target=None):
    """Apply pending migrations; returns the names applied."""
    return runner().up(target)


def pending():
    return [m.name for m in runner().status() if not m.applied]


# PostgreSQL's trigram indexes for the queue search (migration 0005): no model can declare an
# index that exists on one database only, so the schema diff leaves them alone.
POSTGRES_ONLY_INDEXES = {
    "return_reference_trgm",
    "return_email_trgm",
    "order_number_trgm",
    "order_email_trgm",
}


def drift():
    """What differs between the database and the models (empty when they match)."""
    diff = diff_models(db, ALL_MODELS)
    diff.drop_indexes[:] = [i for i in diff.drop_indexes if i.name not in POSTGRES_ONLY_INDEXES]
    return diff


def _with_constraints(build_field_args, build_model):
    # pwmigrate's generator leaves out CHECK constraints; add them back to the frozen copies.
    def field_args(field, imports, todos, targets=None, unbound=False):
        args = build_field_args(field, imports, todos, targets, unbound)
        if field.constraints:
            sqls = ", ".join(f"SQL({c.sql!r})" for c in field.constraints)
            args.append(f"constraints=[{sqls}]")
        return args

    def model_lines(model, imports, todos, targets):
        lines = build_model(model, imports, todos, targets)
        if model._meta.constraints:
            sqls = ", ".join(f"SQL({c.sql!r})" for c in model._meta.constraints)
            lines.append(f"        constraints = [{sqls}]")
        return lines

    return field_args, model_lines


def generate(name):
    """Write the next migration file from the schema difference; returns its path or None."""
    original = pw_migrations._build_field_args, pw_migrations._build_model
    pw_migrations._build_field_args, pw_migrations._build_model = _with_constraints(*original)
    try:
        diff = drift()
        if not diff:
            return None
        body = pw_migrations.template(diff)
        # Timestamps default in the application (models.now), not in the frozen copies.
        body = "\n".join(line for line in body.splitlines() if "default <function now" not in line)
        return runner().create(name, body=body + "\n")
    finally:
        pw_migrations._build_field_args, pw_migrations._build_model = original
