"""How a handler tells delivery what went wrong: try again later, or give up."""


class RetryLater(Exception):
    """A transient failure: try the message again after a backoff.

    `delay` overrides the backoff; `counts=False` means this try does not use up an attempt
    (e.g. the refund is being worked on by another worker right now)."""

    def __init__(self, message, delay=None, counts=True):
        super().__init__(message)
        self.delay = delay
        self.counts = counts


class GiveUp(Exception):
    """A permanent failure: retrying can't help; staff must look at it."""
