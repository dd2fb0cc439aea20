"""KFP triggers -> EventBridge Scheduler expressions: every conversion and every refusal."""

from datetime import UTC, datetime

import pytest

from chalicelib.triggers.errors import InvalidSchedule
from chalicelib.triggers.schedule_expressions import ScheduleExpression, to_eventbridge


def cron(expression: str) -> dict:
    return {"cron_schedule": {"cron": expression}}


def periodic(interval: object) -> dict:
    return {"periodic_schedule": {"interval_second": interval}}


CONVERSIONS = [
    # KFP's documented example: robfig 2-6 is TUE-SAT, EventBridge numbers Sunday 1
    (cron("0 0 9 ? * 2-6"), "cron(0 9 ? * 3-7 *)"),
    (cron("0 0 9 * * *"), "cron(0 9 * * ? *)"),
    (cron("0 0 9 ? * *"), "cron(0 9 * * ? *)"),
    (cron("0 30 6 15 * *"), "cron(30 6 15 * ? *)"),
    (cron("0 30 6 * * 1"), "cron(30 6 ? * 2 *)"),
    (cron("0 0 0 ? * 0"), "cron(0 0 ? * 1 *)"),
    (cron("0 0 9 ? * 0,6"), "cron(0 9 ? * 1,7 *)"),
    (cron("0 0 12 ? * MON-FRI"), "cron(0 12 ? * MON-FRI *)"),
    (cron("0 0 12 ? * mon,wed"), "cron(0 12 ? * MON,WED *)"),
    (cron("0 0 12 ? * sun-3"), "cron(0 12 ? * SUN-4 *)"),
    (cron("0 0 0 ? * */2"), "cron(0 0 ? * 1,3,5,7 *)"),
    (cron("0 0 0 ? * 1-5/2"), "cron(0 0 ? * 2,4,6 *)"),
    (cron("0 0 0 ? * 1/3"), "cron(0 0 ? * 2,5 *)"),
    (cron("0 */15 * * * *"), "cron(0/15 * * * ? *)"),
    (cron("0 5/10 * * * *"), "cron(5/10 * * * ? *)"),
    (cron("0 10-40/10 8-17 * * ?"), "cron(10-40/10 8-17 * * ? *)"),
    (cron("0 0 */6 */2 * ?"), "cron(0 0/6 1/2 * ? *)"),
    (cron("0 0 0 1 jan,jul ?"), "cron(0 0 1 JAN,JUL ? *)"),
    (cron("0 0 0 1 */3 ?"), "cron(0 0 1 1/3 ? *)"),
    (cron("00 05 09 * * *"), "cron(5 9 * * ? *)"),
    (cron("  0 0 9 * * *  "), "cron(0 9 * * ? *)"),
    # robfig's 5-field form is "sec min hour dom month", day-of-week *
    (cron("0 5 * * *"), "cron(5 * * * ? *)"),
    # Quartz forms that EventBridge and croniter share
    (cron("0 0 0 L * ?"), "cron(0 0 L * ? *)"),
    (cron("0 0 0 15W * ?"), "cron(0 0 15W * ? *)"),
    (cron("0 0 0 ? * 5#2"), "cron(0 0 ? * 6#2 *)"),
    (cron("0 0 0 ? * 5L"), "cron(0 0 ? * 6L *)"),
    # robfig descriptors
    (cron("@yearly"), "cron(0 0 1 1 ? *)"),
    (cron("@annually"), "cron(0 0 1 1 ? *)"),
    (cron("@monthly"), "cron(0 0 1 * ? *)"),
    (cron("@weekly"), "cron(0 0 ? * 1 *)"),
    (cron("@daily"), "cron(0 0 * * ? *)"),
    (cron("@midnight"), "cron(0 0 * * ? *)"),
    (cron("@hourly"), "cron(0 * * * ? *)"),
    (cron("@every 1h"), "rate(1 hour)"),
    (cron("@every 1h30m"), "rate(90 minutes)"),
    (cron("@every 120s"), "rate(2 minutes)"),
    (cron("@every 48h"), "rate(2 days)"),
    # periodic: largest unit that divides; singular for 1; int64 may come as a string
    (periodic(60), "rate(1 minute)"),
    (periodic(300), "rate(5 minutes)"),
    (periodic(5400), "rate(90 minutes)"),
    (periodic(3600), "rate(1 hour)"),
    (periodic(7200), "rate(2 hours)"),
    (periodic(86400), "rate(1 day)"),
    (periodic(3 * 86400), "rate(3 days)"),
    (periodic("600"), "rate(10 minutes)"),
    (periodic(120.0), "rate(2 minutes)"),
    ({"periodicSchedule": {"intervalSecond": "3600"}}, "rate(1 hour)"),
    ({"cronSchedule": {"cron": "0 0 9 * * *"}}, "cron(0 9 * * ? *)"),
]


@pytest.mark.parametrize(("trigger", "expression"), CONVERSIONS)
def test_trigger_converts_to_eventbridge_expression(trigger: dict, expression: str) -> None:
    assert to_eventbridge(trigger).expression == expression


REFUSALS = [
    (cron("30 0 9 * * *"), "seconds"),
    (cron("*/30 * * * * *"), "seconds"),
    (cron("0,30 0 9 * * *"), "seconds"),
    (cron("0 0 9 1 * MON"), "both restricted"),
    (cron("0 0 9 1-15 * 1-5"), "both restricted"),
    (cron("0 0 9 */2 * 1"), "both restricted"),
    (cron("0 0 9 * * 7"), "outside 0-6"),
    (cron("0 60 * * * *"), "minutes field '60'"),
    (cron("0 0 24 * * *"), "hours field '24'"),
    (cron("0 0 0 0 * ?"), "day-of-month field '0'"),
    (cron("0 0 0 32 * ?"), "day-of-month"),
    (cron("0 0 0 1 13 ?"), "month field '13'"),
    (cron("0 0 0 1 foo ?"), "not a number or name"),
    (cron("0 0 0 ? * funday"), "not a number or name"),
    (cron("0 5-1 * * * *"), "starts after it ends"),
    (cron("0 */0 * * * *"), "step must be at least 1"),
    (cron("0 1,,2 * * * *"), "empty list element"),
    (cron("0 -1 * * * *"), "not a number"),
    (cron("0 9 * *"), "found 4"),
    (cron("0 0 9 * * * 2024"), "found 7"),
    (cron(""), "required"),
    (cron("@fortnightly"), "unknown descriptor"),
    (cron("@every 30s"), "under a minute"),
    (cron("@every 90s"), "whole number of minutes"),
    (cron("@every soon"), "not a Go duration"),
    (cron("0 0 0 LW * ?"), "'LW' is not supported"),
    (cron("0 L * * * *"), "only supported in day-of-month"),
    (cron("0 0 0 ? * 1#6"), "must be 1-5"),
    (cron("0 0 0 L,15 * ?"), "must stand alone"),
    (periodic(30), "under a minute"),
    (periodic(0), "under a minute"),
    (periodic(-60), "under a minute"),
    (periodic(90), "minute granularity"),
    (periodic(3601), "minute granularity"),
    (periodic("an hour"), "not an integer"),
    (periodic(90.5), "not an integer"),
    (periodic(True), "required"),
    ({"periodic_schedule": {}}, "required"),
    ({}, "neither"),
    ({"cron_schedule": None, "periodic_schedule": None}, "neither"),
    ({"cron_schedule": {"cron": "@daily"}, "periodic_schedule": {"interval_second": 60}}, "not both"),
    ({"cron_schedule": "@daily"}, "expected an object"),
    ({"cron_schedule": {"cron": "@daily", "start_time": "yesterday"}}, "start_time"),
    ({"cron_schedule": {"cron": "@daily", "start_time": "2024-13-01T00:00:00Z"}}, "start_time"),
    ({"cron_schedule": {"cron": "@daily", "end_time": "2024-01-01T00:00:00"}}, "no time zone"),
    ({"cron_schedule": {"cron": "@daily", "end_time": 1704067200}}, "end_time"),
    (
        {
            "cron_schedule": {
                "cron": "@daily",
                "start_time": "2024-02-01T00:00:00Z",
                "end_time": "2024-01-01T00:00:00Z",
            }
        },
        "before start_time",
    ),
]


@pytest.mark.parametrize(("trigger", "reason"), REFUSALS)
def test_inexpressible_trigger_is_refused_with_reason(trigger: dict, reason: str) -> None:
    with pytest.raises(InvalidSchedule, match=reason) as caught:
        to_eventbridge(trigger)
    assert isinstance(caught.value, ValueError)


def test_cron_start_and_end_times_are_parsed_to_utc() -> None:
    trigger = {
        "cron_schedule": {
            "cron": "0 0 9 * * *",
            "start_time": "2024-01-01T02:00:00+02:00",
            "end_time": "2024-12-31T23:59:59.123456789Z",
        }
    }

    assert to_eventbridge(trigger) == ScheduleExpression(
        "cron(0 9 * * ? *)",
        datetime(2024, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2024, 12, 31, 23, 59, 59, 123456, tzinfo=UTC),
    )


def test_camel_case_times_are_read() -> None:
    trigger = {
        "cronSchedule": {
            "cron": "@daily",
            "startTime": "2024-01-01T00:00:00Z",
            "endTime": "2025-01-01T00:00:00Z",
        }
    }

    result = to_eventbridge(trigger)

    assert (result.start, result.end) == (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))


def test_periodic_start_is_kfps_first_fire_time() -> None:
    trigger = {"periodic_schedule": {"interval_second": 3600, "start_time": "2024-01-01T00:00:00Z"}}

    assert to_eventbridge(trigger).start == datetime(2024, 1, 1, 1, 0, tzinfo=UTC)


def test_schedule_without_times_has_no_start_or_end() -> None:
    result = to_eventbridge({"periodic_schedule": {"interval_second": 60}})

    assert (result.start, result.end) == (None, None)
