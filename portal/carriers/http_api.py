"""A label API in the style of EasyPost and Shippo: create a return shipment (JSON, with an
Idempotency-Key header so a retry never buys a second label), read its tracking number and
label URL, then download the label PDF.

    POST {base}/v1/return_shipments   -> 200/201 {"id", "tracking_code", "carrier",
                                                    "label": {"url": ".../label.pdf"}}
    GET  {label url}                  -> application/pdf

Network errors, timeouts, 429 and 5xx answers are transient (the outbox retries with backoff);
other 4xx answers and malformed replies are permanent (staff see why on the operations page).
The standard library's HTTP client is enough for two calls; no SDK is tied to one vendor."""

import json
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlsplit

from portal.carriers.base import Carrier, Label, PermanentCarrierError, TransientCarrierError

MAX_LABEL_BYTES = 5 * 1024 * 1024


def _address(lines, country=""):
    lines = list(lines)
    return {"name": lines[0] if lines else "", "lines": lines[1:], "country": country}


class HttpLabelCarrier(Carrier):
    name = "http"

    def __init__(self, api_base, api_key, timeout=30):
        if not api_base:
            raise PermanentCarrierError("CARRIER_API_BASE is not set.")
        if not api_key:
            raise PermanentCarrierError("CARRIER_API_KEY is not set.")
        self.api_base = api_base.rstrip("/") + "/"
        self.api_key = api_key
        self.timeout = timeout

    def _call(self, request, what):
        # The key goes to the API's own host only: a label stored elsewhere (a signed storage
        # URL) is fetched without it.
        if urlsplit(request.full_url).netloc == urlsplit(self.api_base).netloc:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.headers.get("Content-Type", ""), response.read(
                    MAX_LABEL_BYTES + 1
                )  # fmt: skip
        except urllib.error.HTTPError as exc:
            detail = _error_text(exc)
            if exc.code == 429 or exc.code >= 500:
                raise TransientCarrierError(f"{what}: carrier busy ({exc.code}): {detail}") from exc
            raise PermanentCarrierError(f"{what}: carrier refused ({exc.code}): {detail}") from exc
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransientCarrierError(f"{what}: carrier unreachable: {reason}") from exc

    def create_return_shipment(self, shipment):
        body = {
            "reference": shipment.reference,
            "is_return": True,
            "from_address": _address(shipment.sender, shipment.sender_country),
            "to_address": _address(shipment.recipient),
            "parcel": {
                "lines": [{"sku": s, "title": t, "quantity": q} for s, t, q in shipment.lines]
            },  # fmt: skip
            "label_format": "PDF",
            "label_size": "4x6" if shipment.size == "4x6" else "A4",
        }
        request = urllib.request.Request(
            urljoin(self.api_base, "v1/return_shipments"), data=json.dumps(body).encode(),
            method="POST", headers={"Content-Type": "application/json",
                                    "Idempotency-Key": shipment.idempotency_key},
        )  # fmt: skip
        _, _, raw = self._call(request, "creating the shipment")
        try:
            answer = json.loads(raw)
            tracking = str(answer["tracking_code"])
            label_url = urljoin(self.api_base, answer["label"]["url"])
            carrier = str(answer.get("carrier") or "Carrier")
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentCarrierError(f"The carrier's answer can't be read: {exc!r}") from exc
        if urlsplit(label_url).scheme not in ("http", "https"):
            raise PermanentCarrierError(
                f"The carrier's label URL is not a web address: {label_url}"
            )
        _, content_type, pdf = self._call(
            urllib.request.Request(label_url), "downloading the label"
        )
        if len(pdf) > MAX_LABEL_BYTES or not pdf.startswith(b"%PDF"):
            raise PermanentCarrierError(
                f"The carrier's label is not a PDF of at most 5 MB ({content_type or 'no type'})."
            )
        return Label(carrier, tracking, pdf)


def _error_text(exc):
    try:
        body = json.loads(exc.read() or b"{}")
        return str((body.get("error") or {}).get("message") or body)[:300]
    except (ValueError, AttributeError, OSError):
        return exc.reason or ""
