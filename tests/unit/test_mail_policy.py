"""portal.mail.POLICY (email's default policy with each header class made once) gives the same
email, byte for byte, as EmailMessage()'s own policy, whatever the addresses, subject and
bodies (hypothesis: non-ASCII, long lines, attachments); the boundary is drawn from the same
seeded random numbers for both."""

import random
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import mail

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

words = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=90)
bodies = st.lists(st.one_of(words, st.text("abc xyz", max_size=200)), min_size=1,
                  max_size=12).map("\n".join)  # fmt: skip
locals_ = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-+", min_size=1, max_size=20)
names = st.one_of(st.just(""), st.text(st.characters(blacklist_categories=["Cs", "Cc"],
                                                     blacklist_characters='"\\<>,;:@()[]'),
                                       max_size=20))  # fmt: skip


def _build(policy, sender, to, subject, text, html, attachment):
    msg = EmailMessage() if policy is None else EmailMessage(policy=policy)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Tue, 01 Dec 2026 17:40:00 -0000"
    msg["Message-ID"] = "<outbox-1@returns.portal>"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    if attachment:
        msg.add_attachment(attachment, maintype="application", subtype="pdf",
                           filename="return-label-RMA-2026-00001.pdf")  # fmt: skip
    random.seed(17)
    return bytes(msg)


@given(name=names, local=locals_, subject=words, text=bodies, html=bodies,
       attachment=st.one_of(st.just(b""), st.binary(min_size=1, max_size=300)))  # fmt: skip
@EXAMPLES
def test_the_policy_builds_the_same_bytes_as_the_default(name, local, subject, text, html,
                                                         attachment):  # fmt: skip
    sender = f"{name} <returns@example.com>" if name.strip() else "returns@example.com"
    to = f"{local}@example.com"
    args = (sender, to, subject, text, html, attachment)
    ours = _build(mail.POLICY, *args)
    assert ours == _build(None, *args)
    assert ours == _build(mail.POLICY, *args)  # and again, from the classes made once


def test_emails_sharing_parsed_headers_keep_their_own_bytes():
    """Two emails built with the policy share their From and MIME headers' parsed objects;
    flattening one (which sets its boundary) changes nothing in the other."""

    def message(to, subject):
        msg = EmailMessage(policy=mail.POLICY)
        msg["From"] = "Returns Team <returns@example.com>"
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content("Grüße,\nhello " * 30)
        msg.add_alternative("<p>hello</p>", subtype="html")
        return msg

    first = message("a@example.com", "Ihre Rückerstattung für RMA-2026-00001")
    random.seed(3)
    before = bytes(first)
    second = message("b@example.com", "Your refund for RMA-2026-00002")
    random.seed(4)
    bytes(second)
    random.seed(3)
    assert bytes(first) == before
    assert first["From"] is second["From"]  # the same parsed header
