"""Email: render HTML + text from templates/emails/, send through SMTP or write .eml files."""

import functools
import smtplib
import ssl
from email import policy as email_policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, render_template


class MailError(Exception):
    """Sending failed; `permanent` says whether retrying can help."""

    def __init__(self, message, permanent=False):
        super().__init__(message)
        self.permanent = permanent


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, each header name's class made once (the stdlib's makes a
    new class, type(), on every lookup, about 15 per email) and the last 128 headers
    it parsed kept (most of an email's headers are the same in every email: From,
    MIME-Version, the parts' Content-Type and Content-Transfer-Encoding). Parsing and
    folding are the stdlib's, and a parsed header is a value nothing changes (a message that
    changes a header replaces it), so the bytes are the same; together they were a quarter of
    building an email."""

    def __init__(self):
        super().__init__()
        self._made = {}
        self._parsed = functools.lru_cache(maxsize=128)(self._parse)

    def __getitem__(self, name):
        made = self._made.get(name.lower())
        if made is None:
            made = self._made[name.lower()] = super().__getitem__(name)
        return made

    def _parse(self, name, value):
        return self[name](name, value)

    def __call__(self, name, value):
        if type(value) is not str:  # noqa: E721  (a str subclass may carry more than its text)
            return self[name](name, value)
        return self._parsed(name, value)


# email.policy.default (what EmailMessage() uses) with that registry.
POLICY = email_policy.default.clone(header_factory=_HeaderClasses())


def render(template, **context):
    """(subject, text, html): the .txt template's first line is the subject."""
    text = render_template(f"emails/{template}.txt", **context).lstrip()
    subject, _, body = text.partition("\n")
    html = render_template(f"emails/{template}.html", subject=subject.strip(), **context)
    return subject.strip(), body.lstrip("\n"), html


def build(to, subject, text, html, message_id=None, attachments=()):
    """The email; attachments: [(file name, bytes, maintype, subtype)]."""
    config = current_app.config
    msg = EmailMessage(policy=POLICY)
    msg["From"] = config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id or make_msgid(domain="returns.portal")
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for filename, data, maintype, subtype in attachments:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def send(msg):
    """Deliver through SMTP when MAIL_SERVER is set, else write instance/mail/<id>.eml."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        folder = Path(config["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        name = msg["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        (folder / f"{name}.eml").write_bytes(bytes(msg))
        return
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"recipient refused: {exc.recipients}", permanent=True) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", exc.smtp_code >= 500) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP unavailable: {exc}") from exc
