"""Structured logs on stderr: JSON lines for machines, a console renderer for people.

Every record, structlog's and the standard library's (sqlalchemy, httpx, apscheduler),
passes the same processors, the last of which before rendering is :func:`redact`:
secrets, signatures, credentials in URLs and anything that looks like PII never leave
the process.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, Literal, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

# Keys whose values are secret or personal whatever they hold.
_SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|authorization|api[_-]?key|signature|cookie|credential)",
    re.IGNORECASE,
)
_PII_KEY = re.compile(
    r"^(e[_-]?mail|phone|phone_number|mobile|birth_?date|date_of_birth|dob|first_name|"
    r"last_name|full_name|customer_name|address|street)$",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):[^@\s]*@")
_WHSEC = re.compile(r"whsec_[A-Za-z0-9+/=]+")
_SIGNATURE = re.compile(r"\bv1,[A-Za-z0-9+/]{20,}={0,2}")
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]+=*")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d\s().-]{7,}\d(?![\w.])")


def redact_text(text: str) -> str:
    """Mask credentials in URLs, webhook secrets, signatures, bearer tokens, e-mails, phones."""
    text = _URL_CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)
    text = _WHSEC.sub("whsec_" + REDACTED, text)
    text = _SIGNATURE.sub("v1," + REDACTED, text)
    text = _BEARER.sub("Bearer " + REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    return _PHONE.sub(_phone_or_number, text)


def _phone_or_number(match: re.Match[str]) -> str:
    raw = match.group(0)
    # Timestamps and ISO dates look like digit runs too; a phone has separators or a +.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", raw) or ":" in raw:
        return raw
    digits = sum(ch.isdigit() for ch in raw)
    if digits >= 9 and (raw.startswith("+") or re.search(r"[\s()-]", raw)):
        return REDACTED
    return raw


# Identifiers we generate ourselves: never PII, and digit runs in them (a pid, a random
# token) must not be mistaken for phone numbers.
_OWN_ID_KEYS = frozenset({"instance", "instance_id", "run_id", "msg_id", "timestamp"})


def _redact_value(key: str, value: Any) -> Any:
    if key in _OWN_ID_KEYS and isinstance(value, str):
        return value
    if _SECRET_KEY.search(key) or _PII_KEY.match(key):
        return REDACTED if value not in (None, "") else value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    return _redact_scalar(value)


def _redact_scalar(value: Any) -> Any:
    if hasattr(value, "get_secret_value"):
        return REDACTED
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"  # raw keys and bodies are never printed
    text = f"{type(value).__name__}: {value}" if isinstance(value, BaseException) else str(value)
    # Anything else would be rendered through its str/repr: redact that text instead.
    return redact_text(text)


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets and PII in every field, the message included.

    Keys starting with ``_`` are structlog's own plumbing (``_record``) and are left alone;
    they are removed before rendering.
    """
    return {
        key: value if key.startswith("_") else _redact_value(key, value)
        for key, value in event_dict.items()
    }


def _renderer(fmt: Literal["json", "console", "auto"], stream: TextIO) -> Processor:
    use_console = fmt == "console" or (fmt == "auto" and stream.isatty())
    if use_console:
        return structlog.dev.ConsoleRenderer(colors=stream.isatty())
    return structlog.processors.JSONRenderer(sort_keys=False)


def configure_logging(
    level: str = "INFO",
    fmt: Literal["json", "console", "auto"] = "auto",
    stream: TextIO | None = None,
) -> None:
    """Route structlog and stdlib logging through one pipeline to ``stream`` (stderr)."""
    out = stream if stream is not None else sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        # Exceptions become a structured field, never a traceback on the terminal; without
        # frame locals, which would print keys and secrets held in variables.
        structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
        redact,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _renderer(fmt, out),
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library chatter stays at WARNING unless the operator asks for DEBUG.
    for noisy in ("sqlalchemy", "httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel("DEBUG" if level == "DEBUG" else "WARNING")


def get_logger(name: str | None = None, **initial: Any) -> structlog.stdlib.BoundLogger:
    """A bound logger; bind ``job``, ``run_id``, ``msg_id``, ``endpoint`` as context."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger.bind(**initial) if initial else logger


def bind_context(**values: Any) -> Mapping[str, Any]:
    """Bind context variables for this thread/task; returns tokens for reset."""
    return structlog.contextvars.bind_contextvars(**values)


def clear_context(tokens: MutableMapping[str, Any] | Mapping[str, Any]) -> None:
    """Undo :func:`bind_context`."""
    structlog.contextvars.reset_contextvars(**tokens)
