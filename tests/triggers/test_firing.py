"""Fire times, backfill and run ids of recurring runs."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from chalicelib.triggers.errors import InvalidSchedule
from chalicelib.triggers.firing import missed_fire_times, next_fire_time, scheduled_run_id
from chalicelib.triggers.trigger_specs import parse_trigger


def at(day: int, hour: int = 0, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


def cron(expression: str, **times: str) -> dict:
    return {"cron_schedule": {"cron": expression, **times}}


def periodic(seconds: int, **times: str) -> dict:
    return {"periodic_schedule": {"interval_second": seconds, **times}}


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # the leading field is seconds: 09:30:00, not 00:09:30
        ("0 30 9 * * *", at(1), at(1, 9, 30)),
        # robfig's five fields are "sec min hour dom month": minute 5 of every hour
        ("0 5 * * *", at(1, 10, 7), at(1, 11, 5)),
        # 2024-01-01 is a Monday; robfig 0 is Sunday, 2-6 TUE-SAT
        ("0 0 9 ? * 0", at(1), at(7, 9)),
        ("0 0 9 ? * 2-6", at(1, 10), at(2, 9)),
        ("0 0 9 ? * SAT", at(1), at(6, 9)),
        ("0 0 0 ? * 5#2", at(1), at(12)),
        ("0 0 0 ? * 5L", at(1), at(26)),
        ("0 0 0 L * ?", at(1), at(31)),
        ("0 0 0 15W * ?", at(1, month=6), datetime(2024, 6, 14, tzinfo=UTC)),
        ("@weekly", at(1), at(7)),
        ("@hourly", at(1, 9, 0), at(1, 10, 0)),
        # strictly after: a fire exactly at `after` is the last one, not the next
        ("0 0 9 * * *", at(1, 9), at(2, 9)),
    ],
)
def test_next_cron_fire_follows_robfig_fields(expression: str, after: datetime, expected: datetime) -> None:
    assert next_fire_time(cron(expression), after) == expected


def test_next_cron_fire_waits_for_start_time() -> None:
    trigger = cron("0 0 9 * * *", start_time="2024-01-10T00:00:00Z")

    assert next_fire_time(trigger, at(1)) == at(10, 9)


def test_no_cron_fire_after_end_time() -> None:
    trigger = cron("0 0 9 * * *", end_time="2024-01-02T08:59:59Z")

    assert next_fire_time(trigger, at(1, 9)) is None


def test_cron_fire_exactly_at_end_time_still_happens() -> None:
    trigger = cron("0 0 9 * * *", end_time="2024-01-02T09:00:00Z")

    assert next_fire_time(trigger, at(1, 9)) == at(2, 9)


def test_next_periodic_fire_is_one_interval_after_last() -> None:
    assert next_fire_time(periodic(600), at(1, 9)) == at(1, 9, 10)


def test_first_periodic_fire_is_one_interval_after_start_time() -> None:
    trigger = periodic(3600, start_time="2024-01-05T00:00:00Z")

    assert next_fire_time(trigger, at(1)) == at(5, 1)


def test_no_periodic_fire_after_end_time() -> None:
    trigger = periodic(3600, end_time="2024-01-01T00:30:00Z")

    assert next_fire_time(trigger, at(1)) is None


def test_naive_after_is_read_as_utc() -> None:
    assert next_fire_time(periodic(60), datetime(2024, 1, 1)) == at(1, 0, 1)


def test_next_fire_time_accepts_a_parsed_trigger() -> None:
    assert next_fire_time(parse_trigger(periodic(60)), at(1)) == at(1, 0, 1)


def test_next_fire_time_refuses_an_invalid_trigger() -> None:
    with pytest.raises(InvalidSchedule):
        next_fire_time(cron("30 0 9 * * *"), at(1))


def test_missed_cron_fires_are_listed_oldest_first_up_to_now() -> None:
    fires = missed_fire_times(cron("0 0 9 * * *"), at(1, 9), now=at(4, 12), limit=10)

    assert fires == [at(2, 9), at(3, 9), at(4, 9)]


def test_missed_fires_include_one_exactly_at_now() -> None:
    assert missed_fire_times(cron("0 0 9 * * *"), at(1, 9), now=at(2, 9), limit=10) == [at(2, 9)]


def test_missed_fires_are_bounded_by_limit_and_resume_from_last() -> None:
    trigger = periodic(60)

    first = missed_fire_times(trigger, at(1), now=at(1, 1), limit=3)
    rest = missed_fire_times(trigger, first[-1], now=at(1, 1), limit=100)

    assert first == [at(1, 0, 1), at(1, 0, 2), at(1, 0, 3)]
    assert rest[0] == at(1, 0, 4)
    assert rest[-1] == at(1, 1)
    assert len(first) + len(rest) == 60


def test_missed_fires_never_fired_count_from_start_time() -> None:
    trigger = cron("0 0 9 ? * MON-FRI", start_time="2024-01-05T00:00:00Z")

    fires = missed_fire_times(trigger, None, now=at(9, 10), limit=10)

    assert fires == [at(5, 9), at(8, 9), at(9, 9)]


def test_missed_fires_stop_at_end_time() -> None:
    trigger = periodic(86400, start_time="2024-01-01T00:00:00Z", end_time="2024-01-03T12:00:00Z")

    assert missed_fire_times(trigger, None, now=at(20), limit=10) == [at(2), at(3)]


def test_nothing_is_missed_without_last_fire_or_start_time() -> None:
    assert missed_fire_times(periodic(60), None, now=at(20), limit=10) == []


def test_nothing_is_missed_before_the_next_fire() -> None:
    assert missed_fire_times(cron("0 0 9 * * *"), at(1, 9), now=at(2, 8), limit=10) == []


def test_zero_limit_returns_nothing() -> None:
    assert missed_fire_times(periodic(60), at(1), now=at(2), limit=0) == []


def test_scheduled_run_id_is_stable_for_one_fire() -> None:
    first = scheduled_run_id("rr-1", at(2, 9))
    again = scheduled_run_id("rr-1", datetime(2024, 1, 2, 11, tzinfo=timezone(timedelta(hours=2))))

    assert first == again
    assert str(uuid.UUID(first)) == first


def test_scheduled_run_id_ignores_sub_second_jitter_and_naive_is_utc() -> None:
    assert scheduled_run_id("rr-1", at(2, 9) + timedelta(microseconds=500)) == scheduled_run_id(
        "rr-1", datetime(2024, 1, 2, 9)
    )


def test_scheduled_run_id_differs_per_fire_and_per_recurring_run() -> None:
    ids = {
        scheduled_run_id("rr-1", at(2, 9)),
        scheduled_run_id("rr-1", at(3, 9)),
        scheduled_run_id("rr-2", at(2, 9)),
    }

    assert len(ids) == 3
