"""Standard Webhooks signing: the contract's official vectors, rotation, property tests."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from rms_ml_push.delivery.signing import parse_secret, sign, sign_with_keys, verify
from rms_ml_push.errors import SigningError

VECTORS = [
    (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ),
    (
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        1649367553,
        b'{"email":"test@example.com","username":"test_user"}',
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    ),
]

secrets_st = st.binary(min_size=24, max_size=64).map(
    lambda key: "whsec_" + base64.b64encode(key).decode()
)
ids_st = st.from_regex(r"msg_[A-Za-z0-9_]{1,40}", fullmatch=True)


@pytest.mark.parametrize(("secret", "msg_id", "ts", "body", "expected"), VECTORS)
def test_official_vectors(secret: str, msg_id: str, ts: int, body: bytes, expected: str) -> None:
    """Both official vectors of the contract are reproduced exactly."""
    assert sign([secret], msg_id, ts, body) == expected


def test_rotation_signs_newest_first() -> None:
    """Two secrets give two space-separated v1 entries, the newest secret's first."""
    (s1, msg_id, ts, body, sig1), (s2, *_rest) = VECTORS
    header = sign([s2, s1], msg_id, ts, body)
    entries = header.split(" ")
    assert len(entries) == 2
    assert entries[1] == sig1
    assert entries[0] == sign([s2], msg_id, ts, body)


@pytest.mark.parametrize(
    "secret",
    ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_" + "QUJD", "whsec_"],
)
def test_malformed_secrets_rejected(secret: str) -> None:
    """A secret without the prefix, not base64, or too short raises SigningError."""
    with pytest.raises(SigningError) as info:
        parse_secret(secret)
    assert secret[6:] not in str(info.value) or secret[6:] == ""


def test_message_id_with_dot_refused() -> None:
    """A webhook-id containing a dot cannot be signed (it would be ambiguous)."""
    with pytest.raises(SigningError):
        sign([VECTORS[0][0]], "msg_a.b", 1, b"{}")


@given(secret=secrets_st, msg_id=ids_st, ts=st.integers(0, 2**34), text=st.text(max_size=300))
def test_sign_verify_roundtrip(secret: str, msg_id: str, ts: int, text: str) -> None:
    """Whatever we sign, our verifier and standardwebhooks agree; a changed input fails."""
    body = text.encode("utf-8")
    key = parse_secret(secret)
    header = sign_with_keys([key], msg_id, ts, body)
    assert header == Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, UTC), text)
    assert verify([key], msg_id, ts, body, header)
    assert not verify([key], msg_id, ts + 1, body, header)
    assert not verify([key], msg_id, ts, body + b" ", header)


@given(secret=secrets_st, other=secrets_st, msg_id=ids_st, body=st.binary(max_size=100))
def test_verify_accepts_any_rotated_secret(
    secret: str, other: str, msg_id: str, body: bytes
) -> None:
    """A receiver holding only the old secret still verifies a rotation header."""
    header = sign([other, secret], msg_id, 1700000000, body)
    assert verify([parse_secret(secret)], msg_id, 1700000000, body, header)
