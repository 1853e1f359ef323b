"""The audit log for admins: every change to the policy, reasons, locations and staff accounts,
filtered by what, who and when, on a page or as a CSV download. The log itself is
portal.returns.audit (append-only: the database refuses updates and deletes)."""

import csv
import io
import json

from flask import Response, render_template, request

from portal.auth.roles import role_required
from portal.merchant import bp
from portal.merchant.admin_forms import AuditFilterForm
from portal.returns import audit

ADMINS = "Only admins can read the audit log."
PAGE_ROWS = 200
EXPORT_ROWS = 50_000
EXPORT_HEADER = ("when_utc", "actor", "action", "what", "subject", "about", "changes",
                 "before", "after")  # fmt: skip


def _filters():
    """The filters from the query string; a value that can't be read is left out (and the form
    says why)."""
    form = AuditFilterForm(request.args)
    form.validate()
    data = {name: (None if field.errors else field.data) for name, field in form._fields.items()}
    filters = audit.Filters(
        action=data["action"] or "",
        actor=(data["actor"] or "").strip(),
        date_from=data["date_from"],
        date_to=data["date_to"],
    )
    return form, filters


def _args(filters):
    """The query string of the filters that are in use (for the CSV link)."""
    args = {"action": filters.action, "actor": filters.actor,
            "date_from": filters.date_from.isoformat() if filters.date_from else "",
            "date_to": filters.date_to.isoformat() if filters.date_to else ""}  # fmt: skip
    return {key: value for key, value in args.items() if value}


@bp.route("/audit")
@role_required("admin", ADMINS)
def audit_log():
    """The newest entries matching the filters: when, who, what, and before -> after."""
    form, filters = _filters()
    rows = audit.describe(audit.entries(filters, PAGE_ROWS))
    return render_template("merchant/audit.html", form=form, rows=rows, args=_args(filters),
                           filtered=bool(_args(filters)), limit=PAGE_ROWS,
                           truncated=len(rows) >= PAGE_ROWS)  # fmt: skip


def _cell(value):
    """A CSV cell a spreadsheet won't run as a formula (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _export_rows(rows):
    yield EXPORT_HEADER
    for row in rows:
        entry = row.entry
        yield (
            entry.created_at.isoformat(sep=" ", timespec="seconds"),
            row.actor.email if row.actor else "system",
            entry.action,
            row.action,
            entry.subject,
            row.subject,
            "; ".join(f"{c.field}: {c.before} -> {c.after}" for c in row.changes),
            json.dumps(entry.before, sort_keys=True) if entry.before is not None else "",
            json.dumps(entry.after, sort_keys=True) if entry.after is not None else "",
        )


@bp.route("/audit.csv")
@role_required("admin", ADMINS)
def audit_export():
    """The entries matching the same filters, newest first, streamed as CSV."""
    _, filters = _filters()
    rows = audit.describe(audit.entries(filters, EXPORT_ROWS))

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in _export_rows(rows):
            writer.writerow([_cell(value) for value in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    response = Response(lines(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
