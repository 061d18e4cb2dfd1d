"""The hub's exception family; each names its message in the catalogs."""

from __future__ import annotations


class HubError(Exception):
    """A refusal a person can act on; `code` picks its message in the catalogs."""

    def __init__(self, code: str, status: int = 409, **params: object):
        super().__init__(code)
        self.code = code
        self.status = status
        self.params = params


class QueueError(HubError):
    """The queue refuses an action (nobody waiting, wrong state, ...)."""


class AuthError(HubError):
    """A sign-in or permission check failed."""


class InputError(HubError):
    """A request's data is missing or malformed."""

    def __init__(self, code: str, field: str, **params: object):
        super().__init__(code, 400, field=field, **params)
        self.field = field


class BookingError(HubError):
    """A booking, a schedule change or a check-in is refused."""
