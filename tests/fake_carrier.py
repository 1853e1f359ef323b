"""A local stand-in for an EasyPost/Shippo-style label API, run in a thread: POST
/v1/return_shipments creates a shipment (idempotent on the Idempotency-Key header: a key seen
before replays the first shipment and buys no second label) and GET /labels/<id>.pdf serves its
label. It checks the API key, records every request, and can be told to fail.

`shipments` lists the shipments it actually created (the labels paid for)."""

import json
import threading

from portal.documents import LabelData, label_pdf
from tests.local_server import LocalServer

API_KEY = "carrier_test_key"


class FakeCarrier(LocalServer):
    def __init__(self):
        self.requests = []  # (method, path, key, body)
        self.authorizations = []  # the Authorization header of each label download
        self.shipments = {}  # idempotency key -> shipment
        self.fail_next = 0  # the next N shipment requests answer fail_status
        self.fail_status = 503
        self.lock = threading.Lock()

    def on_post(self, http):
        self.create(http)

    def on_get(self, http):
        self.label(http)

    def _authorised(self, http):
        return http.headers.get("Authorization") == f"Bearer {API_KEY}"

    def create(self, http):
        body = http.rfile.read(int(http.headers.get("Content-Length") or 0))
        key = http.headers.get("Idempotency-Key")
        with self.lock:
            self.requests.append(("POST", http.path, key, body))
            failing = self.fail_next > 0
            self.fail_next = max(self.fail_next - 1, 0)
        if http.path != "/v1/return_shipments":
            return self.reply(http, 404, {"error": {"message": "no such endpoint"}})
        if not self._authorised(http):
            return self.reply(http, 401, {"error": {"message": "invalid API key"}})
        if failing:
            return self.reply(http, self.fail_status, {"error": {"message": "injected failure"}})
        data = json.loads(body)
        if not key or not data.get("is_return") or not data.get("to_address", {}).get("name"):
            return self.reply(http, 422, {"error": {"message": "address incomplete"}})
        with self.lock:
            shipment = self.shipments.get(key)
            if shipment is None:
                number = len(self.shipments) + 1
                shipment = {"id": f"shp_{number:04d}", "carrier": "FakePost",
                            "tracking_code": f"FP{number:010d}", "request": data,
                            "label": {"url": f"/labels/shp_{number:04d}.pdf"}}  # fmt: skip
                self.shipments[key] = shipment
        self.reply(http, 201, {k: v for k, v in shipment.items() if k != "request"})

    def label(self, http):
        with self.lock:
            self.requests.append(("GET", http.path, None, b""))
            self.authorizations.append(http.headers.get("Authorization"))
        shipment = next((s for s in self.shipments.values()
                         if s["label"]["url"] == http.path), None)  # fmt: skip
        if not self._authorised(http) or shipment is None:
            return self.reply(http, 404, {"error": {"message": "no such label"}})
        data = shipment["request"]
        pdf = label_pdf(LabelData(data["reference"], "FakePost", shipment["tracking_code"],
                                  [data["from_address"]["name"]],
                                  [data["to_address"]["name"], *data["to_address"]["lines"]]),
                        "4x6" if data["label_size"] == "4x6" else "a4")  # fmt: skip
        http.send_response(200)
        http.send_header("Content-Type", "application/pdf")
        http.send_header("Content-Length", str(len(pdf)))
        http.end_headers()
        http.wfile.write(pdf)

    def reply(self, http, status, body):
        data = json.dumps(body).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/json")
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)
