"""Errors raised by the triggers package. botocore exceptions never leave `chalicelib.triggers`: the
scheduler client wraps them in these, raised `from` the library error."""


class InvalidSchedule(ValueError):
    """A recurring run's trigger cannot be run as asked: the message names the field and value and says why
    (robfig/cron would refuse it, or EventBridge Scheduler cannot express it)."""


class SchedulerError(Exception):
    """EventBridge Scheduler refused or failed a call."""


class ScheduleNotFound(SchedulerError):
    """The recurring run has no schedule (never created, or already deleted)."""


class InvalidFireEvent(ValueError):
    """A Lambda event that should be an EventBridge Scheduler fire is missing its recurring run id or time."""


class InvalidUploadEvent(ValueError):
    """An event that should be an S3 "Object Created" EventBridge event lacks its bucket or key."""
