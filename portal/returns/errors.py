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
