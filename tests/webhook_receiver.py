"""A shop's webhook receiver, run in a thread: it checks every delivery's signature with the
`standardwebhooks` library (as a shop would) against the secrets it was given, and keeps the
events it accepted. `down` makes it answer 503 (the shop is having an outage)."""

import threading

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.local_server import LocalServer


class Receiver(LocalServer):
    def __init__(self, *secrets):
        self.secrets = list(secrets)
        self.accepted = []  # (webhook-id, type, return reference, return status), in arrival order
        self.bodies = []
        self.refused = []  # deliveries whose signature did not verify
        self.tries = 0
        self.down = False
        self.lock = threading.Lock()

    def on_post(self, http):
        body = http.rfile.read(int(http.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in http.headers.items()}
        with self.lock:
            self.tries += 1
            if self.down:
                return self.reply(http, 503, b"maintenance")
            try:
                event = self.verify(body, headers)
            except (WebhookVerificationError, ValueError) as exc:
                self.refused.append(str(exc))
                return self.reply(http, 400, b"bad signature")
            rma = event["data"]["return"]
            self.accepted.append(
                (headers["webhook-id"], event["type"], rma["reference"], rma["status"])
            )
            self.bodies.append(event)
        self.reply(http, 204, b"")

    def verify(self, body, headers):
        """Every secret it holds must verify the delivery on its own (during a rotation's
        overlap a receiver may still hold the old one, or already the new one)."""
        if not self.secrets:
            raise WebhookVerificationError("no secret to check with")
        return [Webhook(secret).verify(body, headers) for secret in self.secrets][0]

    def reply(self, http, status, data):
        http.send_response(status)
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)

    def ids(self):
        return [a[0] for a in self.accepted]

    def types(self, reference=None):
        return [a[1] for a in self.accepted if reference is None or a[2] == reference]
