"""Endpoints as the dispatcher uses them, and checks on a claimed row before sending."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from rms_ml_push.config import EndpointSettings
from rms_ml_push.delivery.signing import MESSAGE_ID, parse_secrets
from rms_ml_push.errors import ConfigError, SigningError
from rms_ml_push.store.leasing import Claimed


@dataclass(frozen=True)
class Target:
    """An endpoint with its secrets parsed into HMAC keys (newest first)."""

    name: str
    url: str
    keys: tuple[bytes, ...]
    timeout_s: float
    max_in_flight: int
    enabled: bool


def build_targets(endpoints: Sequence[EndpointSettings]) -> dict[str, Target]:
    """Targets by name; ConfigError naming the endpoint if a secret is malformed."""
    targets: dict[str, Target] = {}
    problems: list[str] = []
    for ep in endpoints:
        try:
            keys = parse_secrets([s.get_secret_value() for s in ep.secrets])
        except SigningError as exc:
            problems.append(f"endpoint {ep.name}: {exc}")
            continue
        targets[ep.name] = Target(ep.name, ep.url, keys, ep.timeout_s, ep.max_in_flight, ep.enabled)
    if problems:
        raise ConfigError(problems)
    return targets


@dataclass(frozen=True)
class Sendable:
    """A claimed message whose stored values passed the checks."""

    id: str
    type: str
    endpoint: str
    body: bytes
    attempts: int
    failures: int
    trigger: str


def _problem(msg: Claimed) -> str | None:
    if not isinstance(msg.id, str) or not MESSAGE_ID.match(msg.id):
        return "id is not msg_ + [A-Za-z0-9_]"
    if not all(isinstance(c, int) and c >= 0 for c in (msg.attempts, msg.failures)):
        return "attempt counters are not integers"
    if not isinstance(msg.endpoint, str) or not isinstance(msg.trigger, str):
        return "endpoint or trigger is not text"
    return _body_problem(msg)


def _body_problem(msg: Claimed) -> str | None:
    if not isinstance(msg.body, bytes | memoryview | bytearray) or not msg.body:
        return "body is empty or not bytes"
    try:
        parsed = json.loads(bytes(msg.body))
    except (UnicodeDecodeError, ValueError):
        return "body is not JSON"
    if not isinstance(parsed, dict) or parsed.get("type") != msg.type:
        return "body is not an envelope of the row's type"
    return None


def check_claimed(msg: Claimed) -> Sendable | str:
    """The message in typed form, or why the stored row cannot be sent (corrupt)."""
    problem = _problem(msg)
    if problem is not None:
        return f"corrupt message: {problem}"
    return Sendable(
        str(msg.id),
        str(msg.type),
        str(msg.endpoint),
        bytes(msg.body),  # type: ignore[call-overload]
        int(msg.attempts),  # type: ignore[call-overload]
        int(msg.failures),  # type: ignore[call-overload]
        str(msg.trigger),
    )
