"""Checks of settings that need the file system or a lookup, for ``config check``.

Pydantic validates shapes when settings load; these look at what is around them (files,
folders, zone and holiday names). One line per problem, named by its variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rms_ml_push.config import Settings


def check_settings(settings: Settings) -> list[str]:
    """Problems with settings beyond their shape (empty when all is well)."""
    problems: list[str] = []
    try:
        ZoneInfo(settings.schedule_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"RMS_ML_SCHEDULE_TIMEZONE: unknown time zone {settings.schedule_timezone!r}"
        )
    if settings.schedule_file is not None and not settings.schedule_file.is_file():
        problems.append(f"RMS_ML_SCHEDULE_FILE: no such file: {settings.schedule_file}")
    problems.extend(_check_model_dir(settings.model_dir))
    problems.extend(_check_holidays(settings))
    return problems


def _check_model_dir(model_dir: Path) -> list[str]:
    if model_dir.exists() and not model_dir.is_dir():
        return [f"RMS_ML_MODEL_DIR: {model_dir} exists and is not a folder"]
    existing = model_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK):
        return [f"RMS_ML_MODEL_DIR: {existing} is not writable"]
    return []


def _check_holidays(settings: Settings) -> list[str]:
    wanted: list[tuple[str, str]] = []
    if settings.holidays.country:
        wanted.append(("RMS_ML_HOLIDAYS__COUNTRY", settings.holidays.country))
    for restaurant_id, override in settings.holidays.restaurants.items():
        if override.get("country"):
            wanted.append(
                (f"RMS_ML_HOLIDAYS__RESTAURANTS ({restaurant_id})", str(override["country"]))
            )
    if not wanted:
        return []
    import holidays  # noqa: PLC0415 - large; only when holidays are configured

    supported = holidays.list_supported_countries()
    return [
        f"{name}: unknown holiday country {code!r} (ISO 3166-1 alpha-2, e.g. DE)"
        for name, code in wanted
        if code.upper() not in supported
    ]
