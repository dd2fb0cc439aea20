"""What authentication and the namespace scope refuse with; `chalicelib.api.errors` maps them to 401 and 403."""


class Unauthenticated(Exception):
    """No credentials, or credentials that do not hold (malformed, unknown, expired, revoked, bad signature)."""


class Forbidden(Exception):
    """The principal may not act in that namespace (an object it cannot read is NotFound instead)."""
