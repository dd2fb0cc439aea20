"""Cloud triggers: KFP recurring-run schedules on EventBridge Scheduler and pipeline registration on S3
uploads.

`robfig_cron`, `trigger_specs`, `schedule_expressions`, `firing`, `fire_events` and `s3_events` are pure (no
I/O, no boto3; croniter is imported lazily); only `scheduler_client` talks to AWS.
"""
