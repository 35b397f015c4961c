"""Schedule parsing and slot arithmetic (pure), DST included."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rms_ml_push.errors import ConfigError
from rms_ml_push.jobs.cron import CronError, next_slot, parse_cron, previous_slot
from rms_ml_push.jobs.schedule import (
    JOB_NAMES,
    default_schedule_text,
    load_schedule,
    parse_schedule,
    scope_of,
)

NOW = datetime(2024, 6, 12, 12, 0, tzinfo=UTC)  # a Wednesday
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _parse(text: str, tz: str = "UTC") -> list:
    return parse_schedule(text, timezone=tz, registered_jobs=JOB_NAMES, now=NOW)


@pytest.mark.parametrize(
    ("expr", "tz", "now", "previous", "following"),
    [
        # daily at 06:00 UTC
        ("0 6 * * *", UTC, utc(2024, 6, 12, 12), utc(2024, 6, 12, 6), utc(2024, 6, 13, 6)),
        # exactly on a slot: previous is that slot, next is the one after
        ("0 6 * * *", UTC, utc(2024, 6, 12, 6), utc(2024, 6, 12, 6), utc(2024, 6, 13, 6)),
        # weekly on Sunday (2024-06-09 and 2024-06-16 are Sundays)
        ("0 6 * * sun", UTC, utc(2024, 6, 12), utc(2024, 6, 9, 6), utc(2024, 6, 16, 6)),
        # first Monday of the month: fields are ANDed
        ("0 6 1-7 * mon", UTC, utc(2024, 6, 12), utc(2024, 6, 3, 6), utc(2024, 7, 1, 6)),
        # monthly on the 1st, across a year end
        ("0 6 1 * *", UTC, utc(2024, 12, 31), utc(2024, 12, 1, 6), utc(2025, 1, 1, 6)),
        # month names and weekday ranges
        (
            "30 5 * jan-mar mon-fri",
            UTC,
            utc(2024, 6, 1),
            utc(2024, 3, 29, 5, 30),
            utc(2025, 1, 1, 5, 30),
        ),
        # Berlin summer time: 06:00 CEST is 04:00 UTC
        ("0 6 * * *", BERLIN, utc(2024, 6, 12, 12), utc(2024, 6, 12, 4), utc(2024, 6, 13, 4)),
        # spring forward (2024-03-31): 02:30 does not exist, fires at 03:30 CEST = 01:30 UTC
        (
            "30 2 * * *",
            BERLIN,
            utc(2024, 3, 31, 1),
            utc(2024, 3, 30, 1, 30),
            utc(2024, 3, 31, 1, 30),
        ),
        (
            "30 2 * * *",
            BERLIN,
            utc(2024, 3, 31, 2),
            utc(2024, 3, 31, 1, 30),
            utc(2024, 4, 1, 0, 30),
        ),
        # fall back (2024-10-27): 02:30 happens twice, fires once, at the first (CEST) one
        (
            "30 2 * * *",
            BERLIN,
            utc(2024, 10, 27, 1),
            utc(2024, 10, 27, 0, 30),
            utc(2024, 10, 28, 1, 30),
        ),
        # 06:00 New York across its fall back (2024-11-03): offset changes, one slot a day
        ("0 6 * * *", NEW_YORK, utc(2024, 11, 3, 12), utc(2024, 11, 3, 11), utc(2024, 11, 4, 11)),
        (
            "0 6 * * *",
            NEW_YORK,
            utc(2024, 11, 3, 10, 30),
            utc(2024, 11, 2, 10),
            utc(2024, 11, 3, 11),
        ),
        # leap day only
        ("0 0 29 feb *", UTC, utc(2025, 1, 1), utc(2024, 2, 29), utc(2028, 2, 29)),
        # steps
        (
            "*/20 8-9 * * *",
            UTC,
            utc(2024, 6, 12, 9, 50),
            utc(2024, 6, 12, 9, 40),
            utc(2024, 6, 13, 8, 0),
        ),
        # six fields: seconds first (tests and demos)
        (
            "*/5 * * * * *",
            UTC,
            utc(2024, 6, 12, 12, 0, 7),
            utc(2024, 6, 12, 12, 0, 5),
            utc(2024, 6, 12, 12, 0, 10),
        ),
        (
            "30 0 6 * * *",
            UTC,
            utc(2024, 6, 12, 12),
            utc(2024, 6, 12, 6, 0, 30),
            utc(2024, 6, 13, 6, 0, 30),
        ),
        # seconds across midnight and inside the Berlin spring gap (02:30:15 -> 01:30:15 UTC)
        (
            "*/20 * * * * *",
            UTC,
            utc(2024, 6, 12, 23, 59, 59),
            utc(2024, 6, 12, 23, 59, 40),
            utc(2024, 6, 13),
        ),
        (
            "15 30 2 * * *",
            BERLIN,
            utc(2024, 3, 31, 1),
            utc(2024, 3, 30, 1, 30, 15),
            utc(2024, 3, 31, 1, 30, 15),
        ),
    ],
)
def test_previous_and_next_slot(expr, tz, now, previous, following) -> None:
    """The most recent slot at/before now and the next slot after now, per zone and DST."""
    cron = parse_cron(expr)
    assert previous_slot(cron, tz, now) == previous
    assert next_slot(cron, tz, now) == following


def test_daily_slots_across_fall_back_are_one_per_day() -> None:
    """Walking slot to slot across an autumn DST change yields one slot per local day."""
    cron = parse_cron("30 2 * * *")
    cursor = utc(2024, 10, 25)
    local_days = []
    for _ in range(5):
        cursor = next_slot(cron, BERLIN, cursor)
        local_days.append(cursor.astimezone(BERLIN).date().day)
    assert local_days == [25, 26, 27, 28, 29]


@pytest.mark.parametrize(
    "expr",
    [
        "0 6 * * 0",
        "0 6 * * 1-5",
        "0 6 * * */2",
        "0 6 * *",
        "60 6 * * *",
        "0 6 * * funday",
        "0 24 * * *",
        "0 6 0 * *",
        "5-1 6 * * *",
        "0 6 * * mon/0",
        "60 0 6 * * *",
        "0 0 0 6 * * *",
    ],
)
def test_bad_cron_is_rejected(expr: str) -> None:
    """Numeric weekdays, wrong field counts and out-of-range values are errors."""
    with pytest.raises(CronError):
        parse_cron(expr)


def test_numeric_weekday_error_says_why() -> None:
    """The numeric day-of-week error tells the operator to use names."""
    with pytest.raises(CronError, match="names"):
        parse_cron("0 6 * * 0")


def test_default_schedule_parses_with_the_design_cadence() -> None:
    """The packaged default: daily demand/kitchen/inventory, weekly customers, monthly pricing."""
    entries = {e.job: e for e in _parse(default_schedule_text())}
    assert set(entries) == set(JOB_NAMES)
    sunday, monday = utc(2024, 6, 9, 6), utc(2024, 6, 10, 6)
    first_monday, second_monday = utc(2024, 6, 3, 6), monday
    for job in ("demand", "kitchen", "inventory"):
        assert entries[job].previous_slot(NOW) == utc(2024, 6, 12, 6)
        assert entries[job].is_full(sunday)
        assert not entries[job].is_full(monday)
    assert entries["customers"].previous_slot(NOW) == monday
    assert entries["customers"].is_full(first_monday)
    assert not entries["customers"].is_full(second_monday)
    assert entries["pricing"].previous_slot(NOW) == utc(2024, 6, 1, 6)
    assert entries["pricing"].is_full(utc(2024, 6, 1, 6))


def test_documented_copy_is_identical_to_the_packaged_default() -> None:
    """jobs/schedule.toml at the repository root is the packaged default, byte for byte."""
    root = Path(__file__).resolve().parents[2]
    assert (root / "jobs" / "schedule.toml").read_text("utf-8") == default_schedule_text()


def test_schedule_timezone_setting_and_entry_override() -> None:
    """Entries use the configured zone unless they name their own."""
    text = """
[[entries]]
job = "demand"
cron = "0 6 * * *"
restaurants = [7, 3]

[[entries]]
job = "demand"
cron = "0 6 * * *"
timezone = "America/New_York"
restaurants = [9]
"""
    berlin, new_york = _parse(text, tz="Europe/Berlin")
    assert berlin.previous_slot(NOW) == utc(2024, 6, 12, 4)
    assert new_york.previous_slot(NOW) == utc(2024, 6, 12, 10)
    assert (berlin.scope, new_york.scope) == ("r:3,7", "r:9")


def test_schedule_file_overrides_the_default(tmp_path: Path) -> None:
    """A file named by RMS_ML_SCHEDULE_FILE replaces the packaged schedule."""
    path = tmp_path / "s.toml"
    path.write_text('[[entries]]\njob = "pricing"\ncron = "0 3 1 * *"\nfull = true\n')
    entries = load_schedule(path, timezone="UTC", registered_jobs=JOB_NAMES, now=NOW)
    assert [(e.job, e.cron.text) for e in entries] == [("pricing", "0 3 1 * *")]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[[entries]]\njob = "weather"\ncron = "0 6 * * *"', "not registered"),
        ('[[entries]]\njob = "demand"\ncron = "0 6 * * 0"', "names"),
        ('[[entries]]\njob = "demand"\ncron = "0 6 * * *"\ntimezone = "Mars/Base"', "time zone"),
        ('[[entries]]\njob = "demand"\ncron = "0 6 31 feb *"', "never fires"),
        ('[[entries]]\njob = "demand"\ncron = "*/1 * * * *"\njitter_s = 30', "jitter_s"),
        ('[[entries]]\njob = "demand"\ncron = "0 6 * * *"\nfull = 3', "full"),
        ('[[entries]]\njob = "demand"\ncron = "0 6 * * *"\nrestaurants = "all"', "restaurants"),
        (
            '[[entries]]\njob = "demand"\ncron = "0 6 * * *"\n[[entries]]\njob = "demand"\n'
            'cron = "0 7 * * *"',
            "twice",
        ),
        ("jitter_s = [", "invalid TOML"),
        ('[[entries]]\njob = "demand"', "needs"),
    ],
)
def test_schedule_errors_are_one_config_line(text: str, fragment: str) -> None:
    """Every schedule problem is a ConfigError with exactly one line naming it."""
    with pytest.raises(ConfigError) as info:
        _parse(text)
    assert len(info.value.problems) == 1
    assert fragment in info.value.problems[0]


def test_missing_schedule_file_is_a_config_error(tmp_path: Path) -> None:
    """An unreadable RMS_ML_SCHEDULE_FILE is a one-line ConfigError."""
    with pytest.raises(ConfigError, match="RMS_ML_SCHEDULE_FILE"):
        load_schedule(tmp_path / "nope.toml", timezone="UTC", registered_jobs=JOB_NAMES, now=NOW)


def test_scope_of_is_canonical() -> None:
    """The scope string is order- and duplicate-insensitive."""
    assert scope_of([7, 3, 7]) == "r:3,7"
    assert scope_of([]) == "all"


@pytest.mark.parametrize(
    "expr", ["*/30 */5 0-3,22-23 * * *", "15 30 2 * * *", "*/7 1-3 * * *", "0 0 * * sun"]
)
@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
)
def test_walk_matches_resolving_every_slot_of_the_day(expr: str, zone: str) -> None:
    """next/previous slot agree with a brute force over day_slots, DST days included."""
    import random  # noqa: PLC0415
    from datetime import timedelta  # noqa: PLC0415

    from rms_ml_push.jobs.cron import day_slots  # noqa: PLC0415

    cron, tz, rng = parse_cron(expr), ZoneInfo(zone), random.Random(7)
    # Around spring and autumn changes in both hemispheres, plus ordinary days.
    anchors = [
        utc(2024, 3, 10),
        utc(2024, 3, 31),
        utc(2024, 4, 7),
        utc(2024, 10, 6),
        utc(2024, 10, 27),
        utc(2024, 11, 3),
        utc(2024, 6, 12),
    ]
    span = 8 if expr.endswith("sun") else 1  # days around `at` that hold its neighbours
    for _ in range(25):
        at = rng.choice(anchors) + timedelta(seconds=rng.uniform(-86400, 2 * 86400))
        local = at.astimezone(tz).date()
        days = range(-span, span + 1)
        slots = [i for d in days for i in day_slots(cron, local + timedelta(d), tz)]
        assert next_slot(cron, tz, at) == min(i for i in slots if i > at)
        assert previous_slot(cron, tz, at) == max(i for i in slots if i <= at)
