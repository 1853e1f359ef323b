"""portal/sessions.py: the session cookie is Flask's own (either signs what the other reads),
with its keys derived once; a changed secret key still ends every session, and a fallback key
still reads the cookies it signed."""

import pytest
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from portal.sessions import KeptKeySessions


def _cookie(interface, app, data):
    return interface.get_signing_serializer(app).dumps(data)


def test_the_cookie_is_flasks_own(app):
    ours, flasks = KeptKeySessions(), SecureCookieSessionInterface()
    data = {"_user_id": "7:1", "csrf_token": "abc", "_fresh": True}
    assert ours.get_signing_serializer(app).loads(_cookie(flasks, app, data)) == data
    assert flasks.get_signing_serializer(app).loads(_cookie(ours, app, data)) == data
    assert isinstance(app.session_interface, KeptKeySessions)


def test_a_new_secret_key_ends_sessions_and_a_fallback_keeps_them(app):
    ours = KeptKeySessions()
    old = _cookie(ours, app, {"_user_id": "7:1"})
    previous = app.secret_key
    app.secret_key = "a-new-secret-key"
    with pytest.raises(BadSignature):
        ours.get_signing_serializer(app).loads(old)
    app.config["SECRET_KEY_FALLBACKS"] = [previous]
    assert ours.get_signing_serializer(app).loads(old) == {"_user_id": "7:1"}
    new = _cookie(ours, app, {"_user_id": "8:1"})
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert SecureCookieSessionInterface().get_signing_serializer(app).loads(new) == {
        "_user_id": "8:1"
    }


def test_the_csrf_token_is_flask_wtfs_own(app):
    from flask import g, session
    from flask_wtf.csrf import generate_csrf, validate_csrf

    from portal.sessions import csrf_token

    with app.test_request_context("/"):
        ours = csrf_token()
        assert csrf_token() == ours == generate_csrf()  # one per request, where flask-wtf keeps it
        validate_csrf(ours)  # raises if flask-wtf would refuse it
        raw = session["csrf_token"]
    with app.test_request_context("/"):
        session["csrf_token"] = raw
        theirs = generate_csrf()
        g.pop("csrf_token")
        assert csrf_token() != "" and session["csrf_token"] == raw  # the session's raw token kept
        validate_csrf(theirs)
        validate_csrf(csrf_token())
    with app.test_request_context("/"):
        session["csrf_token"] = "another"
        with pytest.raises(Exception, match="do not match"):
            validate_csrf(ours)
