"""Errors raised by the store. botocore/pynamodb exceptions never leave `chalicelib.store`: they are wrapped
in these, raised `from` the library error."""


class StoreError(Exception):
    """Base class of every store failure."""


class NotFound(StoreError):
    """The item (run, experiment, pipeline, version, object...) does not exist."""


class AlreadyExists(StoreError):
    """A unique name or id is already taken (conditional put failed)."""


class ConcurrentUpdate(StoreError):
    """A versioned/conditional update lost a race: re-read and decide again."""
