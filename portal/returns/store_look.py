"""The store's look (issue 16): its name, logo and accent colour. Admins only; audited.

The accent colour is the background of buttons with white text, so it must pass WCAG 2.x AA
for normal text against white (a contrast ratio of at least 4.5:1)."""

import re

from portal.db import db, locked
from portal.models import StoreLook, now
from portal.returns import audit
from portal.returns.errors import DomainError, NotAllowed

HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
MIN_CONTRAST = 4.5
NAME_MAX = 80
FIELDS = ("name", "accent", "logo_type", "version")


def _admin(actor):
    if actor is None or not actor.is_staff or not actor.active or not actor.has_role("admin"):
        raise NotAllowed("Only admins can change the store's look.")


def _channel(value):
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour):
    """WCAG 2.x relative luminance of "#rrggbb"."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a, b):
    """The WCAG contrast ratio of two "#rrggbb" colours (1 to 21)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def accent_colour(text):
    """'#0B5CAD', '0b5cad' or '#05a' -> '#0b5cad'; refused when not a colour or when white text
    on it fails WCAG AA."""
    match = HEX.fullmatch((text or "").strip())
    if not match:
        raise DomainError(f"{text!r} is not a colour: give it as #rrggbb, like #0b5cad.")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    colour = f"#{digits}"
    ratio = contrast(colour, "#ffffff")
    if ratio < MIN_CONTRAST:
        raise DomainError(
            f"White text on {colour} has a contrast of {ratio:.2f}:1; it needs at least "
            f"{MIN_CONTRAST}:1 (WCAG AA) to be readable. Pick a darker colour."
        )
    return colour


def darker(colour, factor=0.8):
    """The colour with each channel scaled down (hover states)."""
    return "#" + "".join(f"{int(int(colour[i : i + 2], 16) * factor):02x}" for i in (1, 3, 5))


def update_look(actor, name, accent, logo=None, remove_logo=False):
    """Change the name and accent colour; `logo` is (bytes, content type) of an image already
    checked and re-encoded, or None to keep the current one. Nothing changes on a refusal."""
    _admin(actor)
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Give the store a name.")
    if len(name) > NAME_MAX:
        raise DomainError(f"The store's name can be at most {NAME_MAX} characters.")
    colour = accent_colour(accent)
    with db.atomic():
        StoreLook.current()
        look = locked(StoreLook.select().where(StoreLook.id == 1)).get()
        before = audit.snapshot(look, FIELDS)
        look.name, look.accent = name, colour
        if logo is not None:
            look.logo, look.logo_type = logo
        elif remove_logo:
            look.logo, look.logo_type = None, ""
        look.version += 1
        look.updated_at = now()
        look.save()
        after = audit.snapshot(look, FIELDS)
        audit.record(actor, "store.look_changed", "store", before, after)
        return look
