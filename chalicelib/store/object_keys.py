"""Where things live in the object store (S3 bucket or the embedded store's object directory): one place.

  packages/<pipeline_id>/<version_id>           uploaded package bytes as received
  specs/<pipeline_id>/<version_id>.json         the validated spec struct of that version
  runs/<run_id>/spec.json                       the run's immutable spec snapshot
  runs/<run_id>/tasks/<task_id>.json            a task record too large for its DynamoDB item
  runs/<run_id>/launches/<task_id>/<n>.json     the reconciler's write-ahead launch document of attempt n
  recurring-runs/<id>/spec.json                 a recurring run's spec snapshot
  logs/<run_id>/<task_id>/<attempt>.log         task logs (written when the attempt ends)
  logs/<run_id>/<task_id>/<attempt>.live.log    the log so far of an attempt still running (for following)
  uploads/<upload_id>/<file name>               a large package PUT with a presigned URL, until registered
`pipelines/` is left to users: a package put there is registered by the upload trigger.
"""

from __future__ import annotations

UPLOADS_PREFIX = "pipelines/"


def package_key(pipeline_id: str, version_id: str) -> str:
    return f"packages/{pipeline_id}/{version_id}"


def version_spec_key(pipeline_id: str, version_id: str) -> str:
    return f"specs/{pipeline_id}/{version_id}.json"


def run_spec_key(run_id: str) -> str:
    return f"runs/{run_id}/spec.json"


def task_record_key(run_id: str, task_id: str) -> str:
    return f"runs/{run_id}/tasks/{task_id}.json"


def launch_document_key(run_id: str, task_id: str, attempt: int) -> str:
    return f"runs/{run_id}/launches/{task_id}/{attempt}.json"


def recurring_spec_key(recurring_run_id: str) -> str:
    return f"recurring-runs/{recurring_run_id}/spec.json"


def log_key(run_id: str, task_id: str, attempt: int) -> str:
    return f"logs/{run_id}/{task_id}/{attempt}.log"


def live_log_key(run_id: str, task_id: str, attempt: int) -> str:
    """A separate key, so a late copy of a running attempt's log can never overwrite its final log."""
    return f"logs/{run_id}/{task_id}/{attempt}.live.log"


def upload_prefix(upload_id: str) -> str:
    return f"uploads/{upload_id}/"
