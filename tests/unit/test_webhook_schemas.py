"""webhooks/: every example validates against its schema; files match the generator;
signed examples verify; the bodies our code builds match the contract's schemas."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from standardwebhooks.webhooks import Webhook

from rms_ml_push.delivery import admin, operational

ROOT = Path(__file__).resolve().parents[2] / "webhooks"
NOW = datetime(2026, 11, 28, 6, 0, 3, tzinfo=UTC)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhooks_generate", ROOT / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()
TYPES = sorted(GEN.DATA)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _validator(event_type: str) -> Draft202012Validator:
    schema = _load(ROOT / "schemas" / f"{event_type}.schema.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_contract_event_types_all_present() -> None:
    """Every event type of the contract has a schema, an example and a signed request."""
    types = TYPES
    assert types == sorted(
        [
            "demand.forecast.updated",
            "kitchen.prep_time.updated",
            "customer.scores.updated",
            "inventory.recommendations.updated",
            "pricing.recommendations.updated",
            "model.trained",
            "webhook.test",
            "endpoint.disabled",
            "message.dead",
        ]
    )
    for t in TYPES:
        assert (ROOT / "examples" / f"{t}.json").is_file()
        assert (ROOT / "signed" / f"{t}.http").is_file()


@pytest.mark.parametrize("event_type", TYPES)
def test_example_validates(event_type: str) -> None:
    """The example body validates against its type's schema and the envelope schema."""
    example = _load(ROOT / "examples" / f"{event_type}.json")
    _validator(event_type).validate(example)
    envelope = _load(ROOT / "schemas" / "envelope.schema.json")
    Draft202012Validator(envelope).validate(example)


@pytest.mark.parametrize("event_type", TYPES)
def test_schema_rejects_missing_field(event_type: str) -> None:
    """Dropping a required data field makes the example invalid (the schema has teeth)."""
    example = _load(ROOT / "examples" / f"{event_type}.json")
    first_required = GEN.DATA[event_type][1]["required"][0]
    del example["data"][first_required]
    with pytest.raises(ValidationError):
        _validator(event_type).validate(example)


@pytest.mark.parametrize("event_type", TYPES)
def test_committed_files_match_generator(event_type: str) -> None:
    """Schemas and examples on disk are what generate.py writes."""
    assert _load(ROOT / "schemas" / f"{event_type}.schema.json") == GEN.event_schema(event_type)
    assert _load(ROOT / "examples" / f"{event_type}.json")["data"] == GEN.EXAMPLES[event_type]


@pytest.mark.parametrize("event_type", TYPES)
def test_signed_example_verifies(event_type: str) -> None:
    """The signed request's signature is what standardwebhooks computes for its body."""
    raw = (ROOT / "signed" / f"{event_type}.http").read_bytes()
    head, body = raw.split(b"\r\n\r\n", 1)
    headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
    stamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(GEN.EXAMPLE_SECRET).sign(headers["webhook-id"], stamp, body.decode())
    assert headers["webhook-signature"] == expected
    assert int(headers["content-length"]) == len(body)
    assert json.loads(body) == _load(ROOT / "examples" / f"{event_type}.json")


def test_bodies_built_by_the_code_match_their_schemas() -> None:
    """Operational events and the ping test event that the service sends validate."""
    events = [
        operational.endpoint_disabled("rms", reason="HTTP 410", status_code=410, now=NOW),
        operational.message_dead(
            message_id="msg_abc",
            message_type="model.trained",
            endpoint="rms",
            attempts=10,
            last_error="HTTP 500",
            now=NOW,
        ),
        admin.ping_event("rms", now=NOW, max_body_bytes=65536),
    ]
    for event in events:
        _validator(event.type).validate(json.loads(event.body))
