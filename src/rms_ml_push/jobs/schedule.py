"""The job schedule: entries ``(job, cron, full, restaurants)`` read from TOML, and slots.

The default ships in the package (``default_schedule.toml``, documented copy in
``jobs/schedule.toml``); ``RMS_ML_SCHEDULE_FILE`` names a replacement. Parsing and slot
arithmetic are pure: they take the text, the registered job names and ``now``.

A slot is the nominal cron instant (``as_of``), before jitter, so every instance agrees on
it (``design.md``, "Time"). Jitter only delays the firing, by less than half the shortest
gap between two slots, so the fire time always maps back to its slot.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rms_ml_push.errors import ConfigError
from rms_ml_push.jobs.cron import Cron, CronError, is_slot, next_slot, parse_cron, previous_slot

JOB_NAMES: tuple[str, ...] = ("demand", "kitchen", "customers", "inventory", "pricing")
MAX_JITTER_S = 3600.0
_GAP_SAMPLE = 24  # slots looked at to find an entry's shortest gap


@dataclass(frozen=True)
class ScheduleEntry:
    """One scheduled job: when it runs, when a run is full, which restaurants."""

    job: str
    cron: Cron
    tz: ZoneInfo
    full: bool | Cron  # always / never, or "full when this cron fires at the same instant"
    restaurants: tuple[int, ...] = ()  # empty: all restaurants
    jitter_s: float = 0.0

    @property
    def scope(self) -> str:
        """The run records' slot scope: ``all`` or ``r:3,7``."""
        return scope_of(self.restaurants)

    def previous_slot(self, now: datetime) -> datetime | None:
        """The most recent slot at or before ``now`` (catch-up looks at this one)."""
        return previous_slot(self.cron, self.tz, now)

    def next_slot(self, now: datetime) -> datetime | None:
        """The first slot strictly after ``now``."""
        return next_slot(self.cron, self.tz, now)

    def is_full(self, as_of: datetime) -> bool:
        """Whether the run of slot ``as_of`` re-selects models (a full run)."""
        if isinstance(self.full, bool):
            return self.full
        return is_slot(self.full, self.tz, as_of)

    def describe(self) -> dict[str, Any]:
        """A JSON-able view for ``jobs list`` and ``/info``."""
        full = self.full if isinstance(self.full, bool) else self.full.text
        return {
            "job": self.job,
            "cron": self.cron.text,
            "timezone": self.tz.key,
            "full": full,
            "restaurants": list(self.restaurants),
            "jitter_s": self.jitter_s,
        }


def scope_of(restaurants: Iterable[int]) -> str:
    """Canonical restaurant filter of a slot: ``all`` or ``r:`` and sorted ids."""
    ids = sorted(set(restaurants))
    return "r:" + ",".join(str(i) for i in ids) if ids else "all"


def default_schedule_text() -> str:
    """The schedule shipped inside the package."""
    return resources.files("rms_ml_push.jobs").joinpath("default_schedule.toml").read_text("utf-8")


def load_schedule(
    schedule_file: Path | None,
    *,
    timezone: str,
    registered_jobs: Collection[str],
    now: datetime,
) -> list[ScheduleEntry]:
    """Read the schedule file named in settings (or the packaged default) and parse it."""
    if schedule_file is None:
        return parse_schedule(
            default_schedule_text(), timezone=timezone, registered_jobs=registered_jobs, now=now
        )
    try:
        text = schedule_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [f"RMS_ML_SCHEDULE_FILE: cannot read {schedule_file}: {exc.strerror}"]
        ) from None
    return parse_schedule(text, timezone=timezone, registered_jobs=registered_jobs, now=now)


def parse_schedule(
    text: str, *, timezone: str, registered_jobs: Collection[str], now: datetime
) -> list[ScheduleEntry]:
    """Parse schedule TOML; any problem is a ConfigError with one line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"schedule: invalid TOML: {exc}"]) from None
    unknown = set(data) - {"jitter_s", "entries"}
    if unknown:
        raise ConfigError([f"schedule: unknown keys {sorted(unknown)}"])
    jitter_s = _jitter(data.get("jitter_s", 0), "schedule")
    raw_entries = data.get("entries", [])
    if not isinstance(raw_entries, list):
        raise ConfigError(["schedule: 'entries' must be an array of tables ([[entries]])"])
    entries = [
        _entry(
            raw, i, default_tz=timezone, registered_jobs=registered_jobs, jitter_s=jitter_s, now=now
        )
        for i, raw in enumerate(raw_entries)
    ]
    _check_unique(entries)
    return entries


def _entry(
    raw: Any,
    index: int,
    *,
    default_tz: str,
    registered_jobs: Collection[str],
    jitter_s: float,
    now: datetime,
) -> ScheduleEntry:
    where = f"schedule entry {index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError([f"{where}: must be a table"])
    unknown = set(raw) - {"job", "cron", "full", "restaurants", "timezone", "jitter_s"}
    if unknown or "job" not in raw or "cron" not in raw:
        raise ConfigError([f"{where}: needs 'job' and 'cron'; unknown keys {sorted(unknown)}"])
    job = raw["job"]
    where = f"{where} ({job})"
    if job not in registered_jobs:
        raise ConfigError(
            [
                f"{where}: job {job!r} is not registered "
                f"(known: {', '.join(sorted(registered_jobs))})"
            ]
        )
    try:
        entry = ScheduleEntry(
            job=job,
            cron=parse_cron(str(raw["cron"])),
            tz=_zone(raw.get("timezone", default_tz)),
            full=_full(raw.get("full", False)),
            restaurants=_restaurants(raw.get("restaurants", [])),
            jitter_s=_jitter(raw.get("jitter_s", jitter_s), where),
        )
    except (CronError, ValueError) as exc:
        raise ConfigError([f"{where}: {exc}"]) from None
    _check_fires(entry, where, now)
    return entry


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name, e.g. Europe/Berlin)"
        ) from None


def _full(value: Any) -> bool | Cron:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return parse_cron(value)
    raise ValueError("'full' must be true, false or a cron expression")


def _restaurants(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ValueError("'restaurants' must be a list of restaurant ids")
    return tuple(sorted(set(value)))


def _jitter(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError([f"{where}: jitter_s must be a number of seconds"])
    if not 0 <= value <= MAX_JITTER_S:
        raise ConfigError([f"{where}: jitter_s must be between 0 and {MAX_JITTER_S:g}"])
    return float(value)


def _check_fires(entry: ScheduleEntry, where: str, now: datetime) -> None:
    slots: list[datetime] = []
    cursor: datetime | None = now
    while cursor is not None and len(slots) < _GAP_SAMPLE:
        cursor = entry.next_slot(cursor)
        if cursor is not None:
            slots.append(cursor)
    if not slots:
        raise ConfigError([f"{where}: cron {entry.cron.text!r} never fires"])
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(slots)]
    if gaps and entry.jitter_s * 2 >= min(gaps):
        raise ConfigError(
            [f"{where}: jitter_s {entry.jitter_s:g} must be under half the gap between slots"]
        )


def _check_unique(entries: Sequence[ScheduleEntry]) -> None:
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = (entry.job, entry.scope)
        if key in seen:
            raise ConfigError(
                [f"schedule: job {entry.job!r} scope {entry.scope!r} is scheduled twice"]
            )
        seen.add(key)
