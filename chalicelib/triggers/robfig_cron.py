"""KFP cron strings, parsed the way KFP's scheduler parses them, and rendered for EventBridge and croniter.

KFP's ScheduledWorkflow controller calls `cron.Parse` from robfig/cron v1.2, whose default parser is
`Second | Minute | Hour | Dom | Month | DowOptional | Descriptor`. So:

- six fields `sec min hour dom month dow`; five fields mean `sec min hour dom month` with dow `*` (not the
  Unix five-field form: `0 9 * * *` is "second 0, minute 9, every hour"), anything else is refused;
- `*` and `?` mean "any" in every field; `a-b`, `a/s` (= `a-max/s`), `a-b/s`, `*/s` and lists `x,y`;
- month names JAN-DEC and day names SUN-SAT, any case; day-of-week numbers 0-6 with 0 = Sunday (7 is out of
  range in robfig v1, so it is refused here too);
- descriptors `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`, and
  `@every <Go duration>` (a fixed interval, handled like a periodic schedule).

Extension beyond robfig: the Quartz forms EventBridge and croniter both evaluate, each alone in its field:
day-of-month `L` and `NW`, day-of-week `N#k` and `NL`. `LW` is refused (croniter cannot evaluate it, so the
local stack could not fire it).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from chalicelib.triggers.errors import InvalidSchedule

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclasses.dataclass(frozen=True)
class _Bounds:
    name: str
    low: int
    high: int
    names: dict[str, int]


_SECOND = _Bounds("seconds", 0, 59, {})
_MINUTE = _Bounds("minutes", 0, 59, {})
_HOUR = _Bounds("hours", 0, 23, {})
_DOM = _Bounds("day-of-month", 1, 31, {})
_MONTH = _Bounds("month", 1, 12, {name: i + 1 for i, name in enumerate(_MONTH_NAMES)})
_DOW = _Bounds("day-of-week", 0, 6, {name: i for i, name in enumerate(_DAY_NAMES)})
_ORDER = (_SECOND, _MINUTE, _HOUR, _DOM, _MONTH, _DOW)

_DESCRIPTORS = {
    "@yearly": "0 0 0 1 1 *",
    "@annually": "0 0 0 1 1 *",
    "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *",
    "@midnight": "0 0 0 * * *",
    "@hourly": "0 0 * * * *",
}

_GO_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


@dataclasses.dataclass(frozen=True)
class Term:
    """One element of a field's comma list. `start`/`end` are None for `*`/`?`; `start_text`/`end_text`
    keep how the value was written (a number or an upper-case name). `special` holds an `L`/`W`/`#` form."""

    start: int | None
    end: int | None
    step: int = 1
    ranged: bool = False
    start_text: str = ""
    end_text: str = ""
    special: str = ""

    @property
    def is_any(self) -> bool:
        return self.start is None and self.step == 1 and not self.special


@dataclasses.dataclass(frozen=True)
class CronField:
    """A parsed field: which one (`bounds.name`), its comma-separated terms, and the text as written."""

    bounds: _Bounds
    terms: tuple[Term, ...]
    text: str = ""

    @property
    def is_any(self) -> bool:
        return len(self.terms) == 1 and self.terms[0].is_any

    def values(self) -> frozenset[int]:
        """Every value the field matches (specials excluded)."""
        matched: set[int] = set()
        for term in self.terms:
            low = self.bounds.low if term.start is None else term.start
            high = self.bounds.high if term.end is None else term.end
            matched.update(range(low, high + 1, term.step))
        return frozenset(matched)


@dataclasses.dataclass(frozen=True)
class CronFields:
    """A KFP cron string, parsed: the six robfig fields in order, seconds first."""

    second: CronField
    minute: CronField
    hour: CronField
    day_of_month: CronField
    month: CronField
    day_of_week: CronField


def parse_robfig(spec: str) -> CronFields | timedelta:
    """Parse a KFP (robfig/cron v1) cron string. Returns the fields, or the interval of an `@every`
    descriptor. Raises InvalidSchedule naming the field and value that robfig (or this module) refuses."""
    text = spec.strip()
    if not text:
        raise InvalidSchedule("cron: the expression is empty")
    if text.startswith("@"):
        return _parse_descriptor(text)
    fields = text.split()
    if len(fields) == 5:
        fields.append("*")
    if len(fields) != 6:
        raise InvalidSchedule(
            f"cron {spec!r}: expected 6 fields 'second minute hour day-of-month month day-of-week' "
            f"(or 5 without day-of-week), found {len(fields)}"
        )
    parsed = [_parse_field(token, bounds) for token, bounds in zip(fields, _ORDER, strict=True)]
    return CronFields(*parsed)


def _parse_descriptor(text: str) -> CronFields | timedelta:
    lowered = text.lower()
    if lowered in _DESCRIPTORS:
        fields = parse_robfig(_DESCRIPTORS[lowered])
        assert isinstance(fields, CronFields)
        return fields
    if lowered.startswith("@every "):
        return _parse_go_duration(text[len("@every ") :].strip())
    raise InvalidSchedule(
        f"cron {text!r}: unknown descriptor (robfig knows @yearly, @monthly, @weekly, "
        "@daily, @hourly and @every <duration>)"
    )


def _parse_go_duration(text: str) -> timedelta:
    """Parse a Go `time.ParseDuration` string such as `1h30m` or `90s` (robfig rounds it down to seconds)."""
    if not text or _GO_DURATION_PART.sub("", text) != "":
        raise InvalidSchedule(f"cron '@every {text}': {text!r} is not a Go duration such as '1h30m' or '90s'")
    seconds = sum(
        float(number) * _GO_DURATION_UNITS[unit] for number, unit in _GO_DURATION_PART.findall(text)
    )
    return timedelta(seconds=int(seconds))


def _parse_field(token: str, bounds: _Bounds) -> CronField:
    terms = tuple(_parse_term(part, token, bounds) for part in token.split(","))
    if any(term.special for term in terms) and len(terms) > 1:
        raise InvalidSchedule(
            f"{bounds.name} field {token!r}: L, W and # forms must stand alone, not in a list"
        )
    return CronField(bounds, terms, token)


def _parse_term(part: str, token: str, bounds: _Bounds) -> Term:
    if not part:
        raise InvalidSchedule(f"{bounds.name} field {token!r}: empty list element")
    special = _parse_special(part, token, bounds)
    if special is not None:
        return special
    range_text, _, step_text = part.partition("/")
    step = 1
    if "/" in part:
        step = _parse_int(step_text, token, bounds, "step")
        if step == 0:
            raise InvalidSchedule(f"{bounds.name} field {token!r}: step must be at least 1")
    if range_text in ("*", "?"):
        return Term(None, None, step)
    low_text, dash, high_text = range_text.partition("-")
    start, start_text = _parse_value(low_text, token, bounds)
    if dash:
        end, end_text = _parse_value(high_text, token, bounds)
    elif "/" in part:  # robfig: "N/step" means "N-max/step"
        end, end_text = bounds.high, ""
    else:
        end, end_text = start, start_text
    if start > end:
        raise InvalidSchedule(f"{bounds.name} field {token!r}: range {range_text!r} starts after it ends")
    return Term(start, end, step, bool(dash), start_text, end_text)


def _parse_special(part: str, token: str, bounds: _Bounds) -> Term | None:
    upper = part.upper()
    if bounds is _DOM:
        if upper == "L":
            return Term(None, None, special="L")
        if upper == "LW":
            raise InvalidSchedule(
                f"{bounds.name} field {token!r}: 'LW' is not supported (the local scheduler, "
                "croniter, cannot evaluate it)"
            )
        if upper.endswith("W"):
            day, _ = _parse_value(part[:-1], token, bounds)
            return Term(day, day, special="W")
    if bounds is _DOW:
        if "#" in upper:
            day_text, _, nth_text = part.partition("#")
            day, _ = _parse_value(day_text, token, bounds)
            nth = _parse_int(nth_text, token, bounds, "week number after '#'")
            if not 1 <= nth <= 5:
                raise InvalidSchedule(f"{bounds.name} field {token!r}: the week number after '#' must be 1-5")
            return Term(day, day, special=f"#{nth}")
        if upper.endswith("L") and len(upper) > 1:
            day, _ = _parse_value(part[:-1], token, bounds)
            return Term(day, day, special="L")
    if "#" in part or upper in ("L", "W") or re.fullmatch(r"\d+[LW]", upper):
        raise InvalidSchedule(
            f"{bounds.name} field {token!r}: {part!r} (L, W, #) is only supported in day-of-month (L, NW) "
            "and day-of-week (N#k, NL)"
        )
    return None


def _parse_value(text: str, token: str, bounds: _Bounds) -> tuple[int, str]:
    named = bounds.names.get(text.lower())
    if named is not None:
        return named, text.upper()
    value = _parse_int(text, token, bounds, "value")
    if not bounds.low <= value <= bounds.high:
        hint = " (robfig/cron numbers Sunday 0 and Saturday 6)" if bounds is _DOW else ""
        raise InvalidSchedule(
            f"{bounds.name} field {token!r}: {value} is outside {bounds.low}-{bounds.high}{hint}"
        )
    return value, str(value)


def _parse_int(text: str, token: str, bounds: _Bounds, what: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise InvalidSchedule(f"{bounds.name} field {token!r}: {what} {text!r} is not a number or name")
    return int(text)


def croniter_expression(fields: CronFields) -> str:
    """The same schedule for croniter, seconds first (use `second_at_beginning=True`). croniter numbers days
    of the week like robfig (0 = Sunday)."""
    return " ".join(
        _croniter_field(field)
        for field in (
            fields.second,
            fields.minute,
            fields.hour,
            fields.day_of_month,
            fields.month,
            fields.day_of_week,
        )
    )


def _croniter_field(field: CronField) -> str:
    parts = []
    for term in field.terms:
        if term.special == "L" and term.start is None:
            parts.append("L")
        elif term.special == "L":
            parts.append(f"L{term.start}")
        elif term.special == "W":
            parts.append(f"{term.start}W")
        elif term.special.startswith("#"):
            parts.append(f"{term.start}{term.special}")
        elif term.start is None:
            parts.append("*" if term.step == 1 else f"*/{term.step}")
        else:
            text = f"{term.start}-{term.end}" if term.end != term.start else str(term.start)
            parts.append(text if term.step == 1 else f"{term.start}-{term.end}/{term.step}")
    return ",".join(parts)
