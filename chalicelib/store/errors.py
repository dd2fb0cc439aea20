"""Errors raised by the store. botocore/pynamodb/sqlite3 exceptions never leave `chalicelib.store`: they are
wrapped in these, raised `from` the library error."""


class StoreError(Exception):
    """Base class of every store failure."""


class NotFound(StoreError):
    """The item (run, experiment, pipeline, version, object...) does not exist."""


class AlreadyExists(StoreError):
    """A unique name or id is already taken (a create-if-absent or a name claim failed)."""


class ConcurrentUpdate(StoreError):
    """A versioned/conditional write lost a race (or its record is gone): re-read and decide again."""


class LimitReached(StoreError):
    """A conditional counter is full (a recurring run already has `max_concurrency` active runs)."""


class PresignedUrlsUnsupported(StoreError):
    """This object store cannot hand out presigned URLs (the embedded store's files)."""
