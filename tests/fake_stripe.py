"""A local stand-in for Stripe's refund endpoint (POST /v1/refunds), run in a thread.

It checks what it receives (form fields, the Idempotency-Key header, the API key), behaves like
Stripe's idempotency (a key seen before replays the first answer and moves no money; a key in
use by a request still running gets a 409), and can be told to fail or to hang.

`executions` lists the idempotency keys of refunds it actually carried out: the money that left.
`requests` lists every request that arrived, with its key and fields.

Issue 12: it keeps each refund's metadata, lists a payment intent's refunds (GET /v1/refunds?
payment_intent=...), can forget its idempotency keys as Stripe does after 24 hours
(forget_keys(): a key seen before then creates a second refund), can answer new refunds with
another status (`refund_status`, e.g. "pending" with `pending_reason`), and signs events as
Stripe signs them (signed_event()) for POST /webhooks/stripe."""

import collections
import hashlib
import hmac
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

from tests.local_server import LocalServer

API_KEY = "sk_test_portal_fake"


class FakeStripe(LocalServer):
    def __init__(self):
        self.requests = []
        self.executions = []
        self.refunds = {}  # idempotency key -> the refund object it created
        self.in_flight = set()
        self.fail_next = 0  # the next N requests fail with fail_status, before doing anything
        self.always_fail = False
        self.fail_status = 500
        self.delay = 0.0  # seconds to think before answering (after executing)
        self.hang = False  # execute, then hang until released (a client dies meanwhile)
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.server = None
        self.created = []  # every refund object made, in order (the keys may be forgotten)
        self.refund_status = "succeeded"
        self.pending_reason = None

    # --- control -------------------------------------------------------------------------

    def on_post(self, http):
        self.handle(http)

    def on_get(self, http):
        """GET /v1/refunds?payment_intent=pi_...: that payment intent's refunds, newest first."""
        parts = urlsplit(http.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append({"key": None, "fields": query, "path": parts.path,
                                  "method": "GET", "at": time.time()})  # fmt: skip
        if parts.path != "/v1/refunds":
            return self.reply(http, 404, _error("invalid_request_error", "No such endpoint"))
        if http.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self.reply(http, 401, _error("invalid_request_error", "Invalid API key"))
        with self.lock:
            found = [r for r in reversed(self.created)
                     if r["payment_intent"] == query.get("payment_intent")]  # fmt: skip
        self.reply(http, 200, {"object": "list", "url": "/v1/refunds", "has_more": False,
                               "data": found})  # fmt: skip

    def forget_keys(self):
        """Stripe's idempotency keys expire (24 hours): the refunds stay, the keys go."""
        with self.lock:
            self.refunds.clear()

    def set_status(self, refund_id, status, failure_reason=None):
        """The gateway changes a refund on its own (it succeeds later, or fails: lost card)."""
        with self.lock:
            refund = next(r for r in self.created if r["id"] == refund_id)
            refund["status"] = status
            if failure_reason:
                refund["failure_reason"] = failure_reason
            return dict(refund)

    def signed_event(self, secret, event_type, obj, event_id=None, at=None):
        """A Stripe event about `obj` and its Stripe-Signature header: (body, header)."""
        at = int(at if at is not None else time.time())
        body = json.dumps({
            "id": event_id or f"evt_fake_{time.monotonic_ns()}", "object": "event",
            "type": event_type, "created": at, "livemode": False, "api_version": "2024-06-20",
            "data": {"object": obj},
        })  # fmt: skip
        mac = hmac.new(secret.encode(), f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
        return body, f"t={at},v1={mac}"

    def stop(self):
        self.release.set()
        super().stop()

    def executions_per_key(self):
        return collections.Counter(self.executions)

    def requests_per_key(self):
        return collections.Counter(r["key"] for r in self.requests)

    # --- the endpoint --------------------------------------------------------------------

    def handle(self, http):
        length = int(http.headers.get("Content-Length") or 0)
        fields = {k: v[0] for k, v in parse_qs(http.rfile.read(length).decode()).items()}
        key = http.headers.get("Idempotency-Key")
        record = {"key": key, "fields": fields, "path": http.path, "at": time.time()}
        with self.lock:
            self.requests.append(record)
        if http.path != "/v1/refunds":
            return self.reply(http, 404, _error("invalid_request_error", "No such endpoint"))
        if http.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self.reply(http, 401, _error("invalid_request_error", "Invalid API key"))
        if not key:
            return self.reply(http, 400, _error("invalid_request_error", "Idempotency-Key!"))
        with self.lock:
            if self.always_fail or self.fail_next > 0:
                self.fail_next = max(self.fail_next - 1, 0)
                status = self.fail_status
                record["outcome"] = f"failed {status}"
                failing = True
            else:
                failing = False
        if failing:
            kind = {402: "card_error", 400: "invalid_request_error", 429: "rate_limit_error"}
            return self.reply(http, status, _error(kind.get(status, "api_error"), "Injected"))
        with self.lock:
            if key in self.in_flight:
                record["outcome"] = "conflict"
                conflict = True
            else:
                conflict = False
                replay = self.refunds.get(key)
                if replay is None:
                    refund = {
                        "id": f"re_fake_{len(self.created) + 1:05d}",
                        "object": "refund",
                        "amount": int(fields.get("amount", 0)),
                        "currency": "usd",
                        "payment_intent": fields.get("payment_intent"),
                        "status": self.refund_status,
                        "pending_reason": self.pending_reason,
                        "failure_reason": None,
                        "metadata": {
                            k[len("metadata[") : -1]: v
                            for k, v in fields.items()
                            if k.startswith("metadata[")
                        },  # fmt: skip
                    }
                    self.refunds[key] = refund
                    self.created.append(refund)
                    self.executions.append(key)
                    self.in_flight.add(key)
                    record["outcome"] = "executed"
        if conflict:
            return self.reply(http, 409, _error("idempotency_error", "Key in use"))
        if replay is not None:
            same = (str(replay["amount"]), replay["payment_intent"]) == (
                fields.get("amount"), fields.get("payment_intent"),
            )  # fmt: skip
            record["outcome"] = "replayed" if same else "mismatch"
            if not same:
                return self.reply(http, 400, _error("idempotency_error", "Different params"))
            return self.reply(http, 200, replay, replayed=True)
        try:
            if self.hang:
                self.arrived.set()
                self.release.wait(120)
            elif self.delay:
                time.sleep(self.delay)
        finally:
            with self.lock:
                self.in_flight.discard(key)
        return self.reply(http, 200, refund)

    def reply(self, http, status, body, replayed=False):
        data = json.dumps(body).encode()
        try:
            http.send_response(status)
            http.send_header("Content-Type", "application/json")
            http.send_header("Content-Length", str(len(data)))
            http.send_header("Request-Id", f"req_{time.monotonic_ns()}")
            if replayed:
                http.send_header("Idempotent-Replayed", "true")
            http.end_headers()
            http.wfile.write(data)
        except OSError:  # the client is gone (a killed worker)
            pass


def _error(kind, message):
    return {"error": {"type": kind, "message": message}}
