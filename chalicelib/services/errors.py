"""Refusals of the services, mapped to HTTP in one place (`chalicelib.api.errors`)."""


class ServiceError(Exception):
    """Base of the services' refusals; the message names the resource and the reason."""


class InvalidRequest(ServiceError):
    """The request itself is wrong (→ 400 InvalidArgument)."""


class FailedPrecondition(ServiceError):
    """The resource is not in a state that allows the operation (→ 400 FailedPrecondition)."""


class Refused(ServiceError):
    """The operation is refused on this resource, e.g. deleting the default experiment (→ 409 Aborted)."""


class QuotaExceeded(ServiceError):
    """A quota is used up, e.g. active runs per namespace (→ 429 ResourceExhausted)."""
