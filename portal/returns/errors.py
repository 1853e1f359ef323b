"""Domain errors. Each message is written for the person who caused it."""


class DomainError(Exception):
    """A rule said no. str(error) is safe to show to the user."""


class NotFound(DomainError):
    pass


class Ineligible(DomainError):
    pass


class QuantityExceeded(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


class NotAllowed(DomainError):
    """The user's role or relation to the object does not allow this action."""


class Conflict(DomainError):
    """Someone else changed the object first; reload and try again."""


# --- carrying out a refund (refund_execution): the outbox handler maps these to retry or give up


class RefundBusy(DomainError):
    """Another worker is carrying out this refund right now; look again in `wait` seconds."""

    def __init__(self, wait):
        super().__init__(f"being processed by another worker; look again in {wait:.0f}s")
        self.wait = wait


class RefundDeferred(DomainError):
    """The gateway could not be asked or did not answer; the refund is pending again and is
    retried with the same idempotency key."""


class RefundRefused(DomainError):
    """The gateway refused the refund for good; the refund is failed (a manager can retry)."""
