"""Standard Webhooks v1 signatures (webhook-contract.md, "Request"): a pure function.

``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, one entry per active
secret, newest first, separated by one space. The key is the base64-decoded part of
``whsec_<base64 of 24..64 bytes>``. No I/O and no clock here: the caller passes the
attempt's integer timestamp.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence

from rms_ml_push.errors import SigningError

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
# webhook-contract.md: msg_ + a token of [A-Za-z0-9_]; never a "." (it separates the
# signed content's fields).
MESSAGE_ID = re.compile(r"^msg_[A-Za-z0-9_]{1,60}$")


def parse_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; SigningError (never echoing it) if malformed."""
    if not secret.startswith(SECRET_PREFIX):
        raise SigningError("a webhook secret must start with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningError("a webhook secret is not valid base64 after whsec_") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise SigningError(
            f"a webhook secret decodes to {len(key)} bytes; "
            f"expected {MIN_KEY_BYTES}..{MAX_KEY_BYTES}"
        )
    return key


def parse_secrets(secrets: Sequence[str]) -> tuple[bytes, ...]:
    """Keys for several secrets, order kept (newest first)."""
    if not secrets:
        raise SigningError("no webhook secret configured")
    return tuple(parse_secret(s) for s in secrets)


def _signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    if not MESSAGE_ID.match(msg_id):
        raise SigningError(f"invalid webhook-id {msg_id!r}: expected msg_ + [A-Za-z0-9_]")
    return b"%s.%d.%s" % (msg_id.encode("ascii"), timestamp, body)


def _digest(key: bytes, content: bytes) -> str:
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode("ascii")


def sign_with_keys(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for already-parsed keys, newest first."""
    if not keys:
        raise SigningError("no webhook secret configured")
    content = _signed_content(msg_id, timestamp, body)
    return " ".join(f"v1,{_digest(key, content)}" for key in keys)


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for ``whsec_`` secrets, newest first."""
    return sign_with_keys(parse_secrets(secrets), msg_id, timestamp, body)


def verify(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """True if any ``v1,`` entry of ``header`` matches any key; compared in constant time."""
    try:
        content = _signed_content(msg_id, timestamp, body)
    except SigningError:
        return False
    expected = [_digest(key, content).encode("ascii") for key in keys]
    found = False
    for entry in header.split(" "):
        version, _, value = entry.partition(",")
        if version != "v1" or not value:
            continue
        for candidate in expected:
            # Keep comparing after a match so the time does not depend on which key matched.
            found |= hmac.compare_digest(candidate, value.encode("ascii", "replace"))
    return found
