"""The frame of every page: templates/_page_frame.html, all of base.html but the page's title,
flashed messages and content, the CSRF token and the signed-in address.

The frame is the same for every page of one language, role and store look, so it is rendered
once per process and kept; a page puts its token and address in (marks replaced by string
search) and its own parts between. It took ~0.13 ms of every page (seven url_for, six gettext
and four CSRF-token calls), a third of the framework's fixed cost."""

from dataclasses import dataclass

from flask import current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup, escape

from portal import store_look
from portal.sessions import csrf_token

TITLE, CONTENT, CSRF, EMAIL = "\x00title\x00", "\x00content\x00", "\x00csrf\x00", "\x00email\x00"
MARKS = {"title": Markup(TITLE), "content": Markup(CONTENT), "csrf": Markup(CSRF),
         "email": Markup(EMAIL)}  # fmt: skip
KEPT = 64  # frames kept per process (languages x roles x looks); more starts again


@dataclass(frozen=True)
class Frame:
    top: Markup  # up to the page's title
    middle: Markup  # from after the title to the flashed messages
    bottom: Markup  # after the content


def _rendered():
    html = render_template("_page_frame.html", marks=MARKS)
    top, rest = html.split(TITLE)
    middle, bottom = rest.split(CONTENT)
    return top, middle, bottom


def page_frame():
    from portal.i18n import page_language

    user = current_user._get_current_object()
    signed_in = user.is_authenticated
    key = (page_language(), user.role if signed_in else None, request.script_root,
           store_look.current())  # fmt: skip
    frames = current_app.extensions.setdefault("page_frames", {})
    parts = frames.get(key)
    if parts is None:
        if len(frames) >= KEPT:
            frames.clear()
        parts = frames[key] = _rendered()
    token = str(escape(csrf_token()))
    email = str(escape(user.email)) if signed_in else ""
    return Frame(*(Markup(part.replace(CSRF, token).replace(EMAIL, email)) for part in parts))
