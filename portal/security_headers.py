"""Response headers on every answer of the portal (OWASP ASVS 14.4): a Content-Security-Policy
with no inline script or style, no framing, nosniff, a Referrer-Policy, a Permissions-Policy,
and HSTS in production. An after-request hook (it runs for error pages, redirects and static
files too) rather than flask-talisman: these are fixed strings, and talisman would also rewrite
the session cookie settings and trust an X-Forwarded-Proto that no proxy vouched for.

htmx 2 runs under this policy: base.html's htmx-config turns off its injected indicator <style>
(the CSS is in static/portal.css) and eval; templates use no hx-on:* attributes."""

from flask import redirect, request

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # data: for the QR code of 2FA enrolment; https: for the shop's product pictures
        "img-src 'self' data: https:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
PERMISSIONS = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "interest-cohort",
        "browsing-topics",
    )  # fmt: skip
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": PERMISSIONS,
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Plain http stays allowed here (a load balancer's health check, a TLS-terminating proxy that
# TRUSTED_PROXIES does not name): the redirect is for browsers.
NO_REDIRECT = {"health.healthz"}


def init_app(app):
    config = app.config
    hsts = None
    if config["HSTS_SECONDS"]:
        hsts = f"max-age={int(config['HSTS_SECONDS'])}; includeSubDomains"

    if config["FORCE_HTTPS"]:

        @app.before_request
        def _https_only():
            if not request.is_secure and request.endpoint not in NO_REDIRECT:
                return redirect(request.url.replace("http://", "https://", 1), code=301)

    fixed = list(HEADERS.items()) + ([("Strict-Transport-Security", hsts)] if hsts else [])

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        headers.extend([(name, value) for name, value in fixed if name.lower() not in present])
        return response
