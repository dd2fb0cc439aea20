"""The CloudWatch metrics the functions emit (powertools Metrics, embedded metric format) and the deployment's
dashboard and alarms read. One list, so the emitters and the template cannot drift: the template refers to
these names only through this module.

Every metric is in `NAMESPACE` with the one dimension `stage` (the deployment stage), so two stages in one
account keep separate graphs and alarms.
"""

from __future__ import annotations

import dataclasses
import enum

NAMESPACE = "KFPServerless"
STAGE_DIMENSION = "stage"


class Unit(enum.Enum):
    COUNT = "Count"
    MILLISECONDS = "Milliseconds"
    SECONDS = "Seconds"


@dataclasses.dataclass(frozen=True)
class MetricName:
    name: str
    unit: Unit
    # How the dashboard aggregates one period: "Sum" for counts, "p50"/"p90"/"Maximum" for durations.
    statistic: str
    description: str


RUNS_CREATED = MetricName("RunsCreated", Unit.COUNT, "Sum", "runs created (API, recurring fires)")
RUNS_SUCCEEDED = MetricName("RunsSucceeded", Unit.COUNT, "Sum", "runs that ended SUCCEEDED")
RUNS_FAILED = MetricName("RunsFailed", Unit.COUNT, "Sum", "runs that ended FAILED")
RUNS_CANCELED = MetricName("RunsCanceled", Unit.COUNT, "Sum", "runs that ended CANCELED")
TASK_ATTEMPTS_STARTED = MetricName("TaskAttemptsStarted", Unit.COUNT, "Sum", "task attempts launched")
TASK_ATTEMPTS_FAILED = MetricName("TaskAttemptsFailed", Unit.COUNT, "Sum", "task attempts that failed")
RECONCILE_PASS_DURATION = MetricName(
    "ReconcilePassDuration", Unit.MILLISECONDS, "p90", "duration of one reconcile pass"
)
LAUNCHES_PER_PASS = MetricName("LaunchesPerPass", Unit.COUNT, "Maximum", "task attempts launched by one pass")
TASK_END_TO_LAUNCH_GAP = MetricName(
    "TaskEndToLaunchGap", Unit.MILLISECONDS, "p50", "upstream task end → dependant launch"
)
OLDEST_RUN_WITHOUT_PROGRESS = MetricName(
    "OldestRunWithoutProgress",
    Unit.SECONDS,
    "Maximum",
    "per pass: the longest time an active run has gone without a task state change",
)
RECURRING_FIRES = MetricName("RecurringRunFires", Unit.COUNT, "Sum", "recurring-run fires that created a run")
RECURRING_SKIPS = MetricName(
    "RecurringRunSkips", Unit.COUNT, "Sum", "recurring-run fires skipped (max_concurrency reached)"
)
UPLOAD_REGISTRATIONS = MetricName(
    "UploadRegistrations", Unit.COUNT, "Sum", "packages put under pipelines/ registered as versions"
)
UPLOAD_ERRORS = MetricName(
    "UploadRegistrationErrors", Unit.COUNT, "Sum", "uploaded packages that failed to parse or validate"
)

ALL_METRICS: tuple[MetricName, ...] = (
    RUNS_CREATED,
    RUNS_SUCCEEDED,
    RUNS_FAILED,
    RUNS_CANCELED,
    TASK_ATTEMPTS_STARTED,
    TASK_ATTEMPTS_FAILED,
    RECONCILE_PASS_DURATION,
    LAUNCHES_PER_PASS,
    TASK_END_TO_LAUNCH_GAP,
    OLDEST_RUN_WITHOUT_PROGRESS,
    RECURRING_FIRES,
    RECURRING_SKIPS,
    UPLOAD_REGISTRATIONS,
    UPLOAD_ERRORS,
)
