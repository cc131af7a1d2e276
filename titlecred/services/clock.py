"""Time, in the forms the registry writes it. Pure functions; the current time comes from the caller.

Certificate years and other calendar facts are China Standard Time (UTC+8, no daylight saving): a
certificate issued at 2027-01-01 07:00 in Beijing belongs to 2027 although it is still 2026 in UTC.

It must never read the clock itself where a caller passes the time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from proofs.dataintegrity import format_datetime, parse_datetime

CHINA = timezone(timedelta(hours=8), "CST")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def stamp(dt: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, the one text form of a time (credentials, the audit log)."""
    return format_datetime(dt)


def parse_stamp(text: str) -> datetime:
    parsed = parse_datetime(text)
    if parsed is None:
        raise ValueError(f"{text!r} is not a date-time stamp")
    return parsed


def china_year(dt: datetime) -> int:
    return dt.astimezone(CHINA).year
