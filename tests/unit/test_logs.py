"""Logs: JSON lines on a non-terminal, context binding, and redaction of secrets and PII."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

from rms_ml_push.logs import REDACTED, bind_context, clear_context, configure_logging, get_logger

SECRETS = [
    "hunter2pw",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "g0hZ7yQCj7qKXl5nD3gqCk0Y6kSc3m0aBv1yYz2i3Qo=",
    "erika@example.com",
    "+49 30 1234567",
    "(212) 555-0100",
    "tok_live_abc123",
    "sekritvalue",
]


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A non-terminal stream with logging configured to it (JSON), reset afterwards."""
    out = io.StringIO()
    configure_logging("INFO", "auto", stream=out)
    yield out
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _assert_clean(stream: io.StringIO) -> None:
    text = stream.getvalue()
    for secret in SECRETS:
        assert secret not in text, secret


def test_structlog_fields_and_message_are_redacted(stream: io.StringIO) -> None:
    """Secret-named fields, URLs with passwords, whsec_, signatures, e-mails, phones, SecretStr."""
    log = get_logger("test")
    log.info(
        "sending to postgresql+psycopg://ml:hunter2pw@db/rms for erika@example.com",
        password="hunter2pw",
        api_key="tok_live_abc123",
        header={"webhook-signature": "v1,g0hZ7yQCj7qKXl5nD3gqCk0Y6kSc3m0aBv1yYz2i3Qo="},
        note="secret is whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, call +49 30 1234567",
        phone="(212) 555-0100",
        value=SecretStr("sekritvalue"),
        items=["v1,g0hZ7yQCj7qKXl5nD3gqCk0Y6kSc3m0aBv1yYz2i3Qo="],
        rows=1234,
        as_of="2024-06-01T06:00:00+02:00",
        raw=b"sekritvalue",
        error=ValueError("bad url postgresql://ml:hunter2pw@db/rms"),
    )
    _assert_clean(stream)
    (record,) = _records(stream)
    assert record["password"] == REDACTED
    assert record["value"] == REDACTED
    assert "postgresql+psycopg://ml:***@db/rms" in record["event"]
    assert record["rows"] == 1234
    assert record["raw"] == "<11 bytes>"
    assert record["error"] == "ValueError: bad url postgresql://ml:***@db/rms"
    assert record["as_of"] == "2024-06-01T06:00:00+02:00"  # timestamps are not phones


def test_stdlib_loggers_share_the_pipeline(stream: io.StringIO) -> None:
    """A library's stdlib record (args and extra included) is JSON and redacted too."""
    lib = logging.getLogger("sqlalchemy.pool")
    lib.warning(
        "reconnect to %s as %s", "postgresql://ml:hunter2pw@db/rms", "erika@example.com",
        extra={"token": "tok_live_abc123"},
    )  # fmt: skip
    logging.getLogger("rms_ml_push.x").info("plain %s", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    _assert_clean(stream)
    first, second = _records(stream)
    assert first["logger"] == "sqlalchemy.pool"
    assert first["level"] == "warning"
    assert first["token"] == REDACTED
    assert "ml:***@db" in first["event"]
    assert second["event"] == "plain whsec_" + REDACTED


def test_exceptions_are_fields_without_locals(stream: io.StringIO) -> None:
    """An exception becomes a structured field; its message is redacted and locals are not shown."""

    def _sign() -> None:
        key = b"sekritvalue"  # a local that a traceback with locals would print
        raise RuntimeError(f"cannot reach postgresql://ml:hunter2pw@db/rms ({len(key)})")

    try:
        _sign()
    except RuntimeError:
        get_logger("test").exception("job_failed")
    _assert_clean(stream)
    (record,) = _records(stream)
    assert record["exception"][0]["exc_type"] == "RuntimeError"
    assert "ml:***@db" in record["exception"][0]["exc_value"]
    assert "Traceback" not in stream.getvalue()


def test_context_is_bound_and_cleared(stream: io.StringIO) -> None:
    """Bound job/run_id/endpoint appear on structlog and stdlib records until cleared."""
    tokens = bind_context(job="demand", run_id="r-1", endpoint="rms")
    get_logger("test").info("step")
    logging.getLogger("httpx").warning("slow")
    clear_context(tokens)
    get_logger("test").info("after")
    step, slow, after = _records(stream)
    for record in (step, slow):
        assert (record["job"], record["run_id"], record["endpoint"]) == ("demand", "r-1", "rms")
    assert "job" not in after
    assert step["timestamp"].endswith("Z")


def test_level_filters_and_library_chatter(stream: io.StringIO) -> None:
    """Below-level events are dropped; library INFO stays quiet at INFO."""
    get_logger("test").debug("hidden")
    logging.getLogger("sqlalchemy.engine").info("SELECT 1")
    get_logger("test").warning("shown")
    assert [r["event"] for r in _records(stream)] == ["shown"]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_renderer_on_a_terminal() -> None:
    """auto on a terminal renders for people (not JSON), still redacted."""
    out = _Tty()
    configure_logging("INFO", "auto", stream=out)
    try:
        get_logger("test").info("hello", password="hunter2pw")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    text = out.getvalue()
    assert "hello" in text
    assert "hunter2pw" not in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_own_identifiers_are_not_taken_for_phones(stream: io.StringIO) -> None:
    """An instance id with a pid and a token stays readable; the same digits elsewhere do not."""
    log = get_logger("test")
    log.info("tick", instance="vm-4242-81726354", note="vm-4242-81726354")
    (record,) = _records(stream)
    assert record["instance"] == "vm-4242-81726354"
    assert record["note"] != "vm-4242-81726354"
