"""Configuration: every setting of the portal, its default, and the environment variable that
overrides it (an optional `.env` file is read first). This is the only module that reads the
environment; everything else reads the app's config or takes its values as arguments."""

import datetime
import os
import secrets
import time
from pathlib import Path

from dotenv import load_dotenv

TRUE = {"1", "true", "yes", "on"}


def _flag(name, default=False):
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in TRUE


def _int(name, default):
    return int(os.environ.get(name, str(default)))


def _float(name, default):
    return float(os.environ.get(name, str(default)))


def _schedule(name, default):
    """Seconds as a comma-separated list, e.g. "5,300,1800"."""
    text = os.environ.get(name) or default
    try:
        delays = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise RuntimeError(f"{name} must be seconds separated by commas, e.g. 5,300,1800") from None
    if any(d < 0 for d in delays):
        raise RuntimeError(f"{name} can't hold a negative delay")
    return delays


def instance_path(default):
    """The instance folder (SQLite file, uploads, mail, beat schedule): PORTAL_INSTANCE."""
    return os.environ.get("PORTAL_INSTANCE", str(default))


def _secret_key(instance_path, production):
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise RuntimeError("SECRET_KEY must be set when PORTAL_ENV=production.")
    # Development: one random key per instance folder, kept across restarts.
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        # Readable by this user only; O_EXCL: two processes starting at once keep one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    for _ in range(50):  # another process may have created it a moment ago and still be writing
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty; delete it to get a new development key.")


def load(instance_path):
    """Build the config dict from the environment. `.env` in the working directory is read first."""
    load_dotenv(os.environ.get("PORTAL_DOTENV", ".env"), override=False)
    env = os.environ.get("PORTAL_ENV", "development")
    production = env == "production"
    debug = _flag("FLASK_DEBUG", default=False)
    return {
        "PORTAL_ENV": env,
        "SECRET_KEY": _secret_key(instance_path, production),
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", f"sqlite:///{Path(instance_path) / 'portal.db'}"
        ),
        # PostgreSQL connections kept open per process (0: open one per request).
        "DATABASE_POOL_SIZE": int(os.environ.get("DATABASE_POOL_SIZE", "20")),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Returns <returns@example.com>"),
        "MAIL_DIR": os.environ.get("MAIL_DIR", str(Path(instance_path) / "mail")),
        "STAFF_EMAIL": os.environ.get("STAFF_EMAIL", "returns-team@example.com"),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(Path(instance_path) / "uploads")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_BYTES", str(12 * 1024 * 1024))),
        "PHOTO_MAX_BYTES": int(os.environ.get("PHOTO_MAX_BYTES", str(5 * 1024 * 1024))),
        # Photos with more pixels than this are refused (before they are decoded); larger
        # sides than PHOTO_MAX_SIDE are scaled down when the photo is re-encoded.
        "PHOTO_MAX_PIXELS": _int("PHOTO_MAX_PIXELS", 40_000_000),
        "PHOTO_MAX_SIDE": _int("PHOTO_MAX_SIDE", 4000),
        # Proxies in front of the app that set X-Forwarded-For/-Proto/-Host (0: none trusted).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "LOOKUP_RATE_LIMIT": os.environ.get("LOOKUP_RATE_LIMIT", "5 per minute"),
        "GUEST_LINK_MAX_AGE": int(os.environ.get("GUEST_LINK_MAX_AGE", str(24 * 3600))),
        # Per-account sign-in lock (from any address): after LOGIN_LOCK_FAILURES failures in a
        # row the account is locked LOGIN_LOCK_MINUTES, doubling per lock up to the max; the
        # owner is emailed an unlock link valid UNLOCK_LINK_MAX_AGE seconds.
        "LOGIN_LOCK_FAILURES": _int("LOGIN_LOCK_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _int("LOGIN_LOCK_MINUTES", 15),
        "LOGIN_LOCK_MAX_MINUTES": _int("LOGIN_LOCK_MAX_MINUTES", 24 * 60),
        "UNLOCK_LINK_MAX_AGE": _int("UNLOCK_LINK_MAX_AGE", 24 * 3600),
        # Seconds an emailed password-reset link stays valid (it works once).
        "PASSWORD_RESET_MAX_AGE": _int("PASSWORD_RESET_MAX_AGE", 3600),
        # Two-factor sign-in (TOTP) required for managers and admins (default: in production).
        "REQUIRE_STAFF_TOTP": _flag("REQUIRE_STAFF_TOTP", default=production),
        "TOTP_ISSUER": os.environ.get("TOTP_ISSUER", "Returns Portal"),
        # Seconds between the password and the second-factor code of one sign-in.
        "SIGNIN_CODE_SECONDS": _int("SIGNIN_CODE_SECONDS", 300),
        # Days a "Keep me signed in" cookie lasts (it ends sooner with the session generation).
        "REMEMBER_COOKIE_DURATION": datetime.timedelta(days=_int("REMEMBER_DAYS", 30)),
        "PAYMENT_GATEWAY": os.environ.get("PAYMENT_GATEWAY", "ledger"),
        "STRIPE_API_KEY": os.environ.get("STRIPE_API_KEY", ""),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE", ""),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        "PER_PAGE": int(os.environ.get("PER_PAGE", "20")),
        # portal.models.accounts.DEFAULT_HASH_METHOD (OWASP scrypt N=2^14, r=8, p=5: 16 MiB)
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt:16384:8:5"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies unless debugging on plain http (make run sets FLASK_DEBUG=1).
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", default=not debug),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", default=not debug),
        "WTF_CSRF_TIME_LIMIT": None,
        # Security headers (portal/security_headers.py): HSTS max-age in seconds (production
        # default one year, 0 = no header) and redirecting plain http to https (production).
        "HSTS_SECONDS": _int("HSTS_SECONDS", 31536000 if production else 0),
        "FORCE_HTTPS": _flag("FORCE_HTTPS", default=production),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # Background work (the outbox): how long a worker holds a message, how soon the
        # sweeper re-publishes one left pending, the retry backoff, and when to give up.
        "OUTBOX_LEASE_SECONDS": _float("OUTBOX_LEASE_SECONDS", 20),  # renewed while it runs
        "OUTBOX_SWEEP_GRACE_SECONDS": _float("OUTBOX_SWEEP_GRACE_SECONDS", 10),
        "OUTBOX_BACKOFF_BASE": _float("OUTBOX_BACKOFF_BASE", 2),
        "OUTBOX_BACKOFF_MAX": _float("OUTBOX_BACKOFF_MAX", 600),
        "OUTBOX_MAX_ATTEMPTS": _int("OUTBOX_MAX_ATTEMPTS", 8),
        # Celery beat: the outbox sweeper and the housekeeping run (expiry, reminders).
        "OUTBOX_SWEEP_SECONDS": _float("OUTBOX_SWEEP_SECONDS", 15),
        "HOUSEKEEPING_SECONDS": _float("HOUSEKEEPING_SECONDS", 3600),
        # A refund `processing` for longer than this is taken over by another worker (a refund
        # claimed before leases existed; a claim now is a lease, below).
        "REFUND_STALE_SECONDS": _float("REFUND_STALE_SECONDS", 300),
        # The worker carrying out a refund holds it for this long and renews the lease every
        # third of it while the gateway call runs; a dead worker's refund is taken over once
        # its lease has run out.
        "REFUND_LEASE_SECONDS": _float("REFUND_LEASE_SECONDS", 30),
        # Calls per second per payment provider account, shared by every worker (Redis); below
        # Stripe's default of 25 per second per endpoint. 0: no limit.
        "GATEWAY_RATE_LIMIT": _float("GATEWAY_RATE_LIMIT", 20),
        # Seconds a call may arrive after its slot (slots (1 + J) / rate apart, so no sliding
        # second holds more than the rate; the effective cap is rate / (1 + J)).
        "GATEWAY_RATE_JITTER": _float("GATEWAY_RATE_JITTER", 0.1),
        # KiB of SQLite page cache per connection in a Celery worker (one per thread);
        # 0: SQLite's default (2,000 KiB).
        "WORKER_SQLITE_CACHE_KB": _int("WORKER_SQLITE_CACHE_KB", 256),
        "STRIPE_TIMEOUT": _float("STRIPE_TIMEOUT", 30),
        # Return labels (issue 14): the carrier that makes them (builtin: offline, the
        # default; http: an EasyPost/Shippo-style label API at CARRIER_API_BASE), the page
        # size (a4 or 4x6 label stock), and the secret that signs carriers' status updates
        # to POST /webhooks/carrier (unset: every update is refused) with its time tolerance.
        "CARRIER": os.environ.get("CARRIER", "builtin"),
        "CARRIER_API_KEY": os.environ.get("CARRIER_API_KEY", ""),
        "CARRIER_API_BASE": os.environ.get("CARRIER_API_BASE", ""),
        "CARRIER_TIMEOUT": _float("CARRIER_TIMEOUT", 30),
        "LABEL_SIZE": os.environ.get("LABEL_SIZE", "a4"),
        "CARRIER_WEBHOOK_SECRET": os.environ.get("CARRIER_WEBHOOK_SECRET", ""),
        "CARRIER_WEBHOOK_TOLERANCE": _int("CARRIER_WEBHOOK_TOLERANCE", 300),
        # Webhooks out (issue 12): seconds between the tries of one event (Standard Webhooks'
        # schedule: about a day in all), then it is failed; seconds to wait for an answer;
        # how long a rotated secret keeps signing beside the new one.
        "WEBHOOK_RETRY_SCHEDULE": _schedule(
            "WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000"
        ),
        "WEBHOOK_TIMEOUT": _float("WEBHOOK_TIMEOUT", 10),
        "WEBHOOK_SECRET_OVERLAP_SECONDS": _int("WEBHOOK_SECRET_OVERLAP_SECONDS", 86400),
        # Stripe's events (POST /webhooks/stripe): their signing secret and the age a signed
        # event may have; how long Stripe keeps an idempotency key (past it, a retry looks the
        # refund up at Stripe first and adopts it).
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_WEBHOOK_TOLERANCE": _int("STRIPE_WEBHOOK_TOLERANCE", 300),
        "STRIPE_IDEMPOTENCY_WINDOW": _float("STRIPE_IDEMPOTENCY_WINDOW", 86400),
        # The JSON API (/api/v1): requests per API key (flask-limiter syntax; counted in Redis
        # at REDIS_URL, in memory when none answers), how long a stored Idempotency-Key answer
        # is replayed, and how long a retry waits for the first request's answer (then 409).
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "600 per minute"),
        "IDEMPOTENCY_KEEP_SECONDS": _int("IDEMPOTENCY_KEEP_SECONDS", 24 * 3600),
        "IDEMPOTENCY_WAIT_SECONDS": _float("IDEMPOTENCY_WAIT_SECONDS", 10),
    }
