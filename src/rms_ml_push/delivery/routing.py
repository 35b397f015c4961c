"""Which endpoints an event type goes to (webhook-contract.md, "Routing").

An endpoint's ``event_types`` are glob patterns (``fnmatch``, case-sensitive). The
operational types ``endpoint.disabled`` and ``message.dead`` are matched only by a
pattern that names them exactly: a default or wildcard filter never matches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Protocol, TypeVar

from rms_ml_push.config import OPERATIONAL_EVENT_TYPES

TEST_EVENT_TYPE = "webhook.test"


class _Routable(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def event_types(self) -> list[str]: ...


def matches(patterns: Sequence[str], event_type: str) -> bool:
    """True if any pattern selects ``event_type``."""
    if event_type in OPERATIONAL_EVENT_TYPES:
        return event_type in patterns
    return any(fnmatchcase(event_type, pattern) for pattern in patterns)


E = TypeVar("E", bound=_Routable)


def route(endpoints: Sequence[E], event_type: str) -> list[E]:
    """The endpoints whose filter selects ``event_type``, in settings order."""
    return [e for e in endpoints if matches(e.event_types, event_type)]
