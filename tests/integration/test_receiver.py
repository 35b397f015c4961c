"""The reference receiver: verification, tolerance, de-duplication, simulated failures."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from rms_ml_push.clock import FixedClock
from rms_ml_push.delivery.dispatcher import Dispatcher
from rms_ml_push.delivery.receiver import Receiver
from rms_ml_push.delivery.signing import sign
from tests.integration.delivery_kit import (
    OLD_SECRET,
    SECRET,
    endpoint,
    enqueue_many,
    make_settings,
    open_store,
    statuses,
)
from tests.integration.webhook_servers import Answer, ScriptedServer, sequence, wait_until

NOW = datetime.now(UTC).replace(microsecond=0)
BODY = b'{"data":{},"timestamp":"2026-11-28T06:00:00.000Z","type":"webhook.test"}'


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver holding the old and the new secret, on a fixed clock."""
    r = Receiver([SECRET, OLD_SECRET], clock=FixedClock(NOW), quiet=True).start()
    yield r
    r.close()


def _post(r: Receiver, msg_id: str, ts: int, secrets: list[str], body: bytes = BODY) -> int:
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secrets, msg_id, ts, body),
        "content-type": "application/json",
    }
    return httpx.post(r.url, content=body, headers=headers, timeout=5).status_code


def test_valid_delivery_accepted_and_deduplicated(receiver: Receiver) -> None:
    """A signed delivery is accepted; the same webhook-id again is a counted duplicate."""
    ts = int(NOW.timestamp())
    assert _post(receiver, "msg_one", ts, [SECRET]) == 200
    assert _post(receiver, "msg_one", ts + 5, [SECRET]) == 200
    assert receiver.state.counts == {"msg_one": 2}
    assert receiver.state.bodies == {"msg_one": BODY}


def test_old_secret_still_verifies(receiver: Receiver) -> None:
    """During rotation a header signed only with the old secret verifies."""
    assert _post(receiver, "msg_old", int(NOW.timestamp()), [OLD_SECRET]) == 200


def test_wrong_signature_and_stale_timestamp_rejected(receiver: Receiver) -> None:
    """A foreign secret gives 401; a timestamp 6 minutes off gives 400; nothing recorded."""
    other = "whsec_" + "A" * 32
    ts = int(NOW.timestamp())
    assert _post(receiver, "msg_x", ts, [other]) == 401
    assert _post(receiver, "msg_y", ts - 360, [SECRET]) == 400
    assert _post(receiver, "msg_z", int((NOW + timedelta(minutes=6)).timestamp()), [SECRET]) == 400
    assert receiver.state.counts == {}
    assert receiver.state.rejected == 3


def test_tampered_body_rejected(receiver: Receiver) -> None:
    """Changing one byte of a signed body fails verification."""
    ts = int(NOW.timestamp())
    headers = {
        "webhook-id": "msg_t",
        "webhook-timestamp": str(ts),
        "webhook-signature": sign([SECRET], "msg_t", ts, BODY),
    }
    tampered = BODY.replace(b"webhook.test", b"webhook.tost")
    assert httpx.post(receiver.url, content=tampered, headers=headers).status_code == 401


def test_fail_rate_answers_503() -> None:
    """--fail-rate 1 fails every verified delivery with 503."""
    r = Receiver([SECRET], fail_rate=1.0, rng=random.Random(0), quiet=True).start()
    try:
        assert _post(r, "msg_f", int(datetime.now(UTC).timestamp()), [SECRET]) == 503
    finally:
        r.close()
    assert r.state.failed == 1
    assert r.state.counts == {}


def test_graceful_stop_finishes_in_flight_and_releases_the_rest(sqlite_url: str) -> None:
    """stop(): requests under way finish and are recorded; unstarted leases go back."""
    server = ScriptedServer(sequence(Answer(200, delay_s=0.3)))
    settings = make_settings(sqlite_url, [endpoint("rms", server.url, max_in_flight=2)])
    store = open_store(sqlite_url)
    try:
        ids = enqueue_many(store, settings, 20)
        d = Dispatcher(store, settings)
        d.start()
        assert wait_until(lambda: len(server.seen) >= 2)
        d.stop()
        found = statuses(store)
    finally:
        server.close()
        store.dispose()
    assert "in_flight" not in found.values()
    delivered = {i for i in ids if found[i] == "delivered"}
    assert set(server.ids()) == delivered  # every request sent was recorded as delivered
    assert 2 <= len(delivered) < 20
