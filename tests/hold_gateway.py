"""A test gateway: the real ledger, which then holds still (after writing its book entry)
until a file appears, so a test can SIGKILL the worker at exactly that moment: the money has
left, but the worker never recorded it."""

import time
from pathlib import Path

from portal import payments
from portal.payments.ledger import LedgerGateway


class HoldingLedger(LedgerGateway):
    name = "ledger_hold"

    def __init__(self, folder):
        self.folder = Path(folder)

    def refund(self, payment, amount, currency, idempotency_key, **kwargs):
        reference = super().refund(payment, amount, currency, idempotency_key, **kwargs)
        (self.folder / f"wrote-{idempotency_key}").write_text(reference)
        deadline = time.monotonic() + 120
        while not (self.folder / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return reference


def install(folder):
    payments.register("ledger_hold", lambda config: HoldingLedger(folder))
