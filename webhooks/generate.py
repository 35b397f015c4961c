"""Regenerate ``schemas/``, ``examples/`` and ``signed/`` from the definitions below.

Run ``python webhooks/generate.py`` after changing the contract; a test fails if the
committed files differ from what this script writes. JSON Schema draft 2020-12.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://rms-ml-push.example/webhooks/schemas/"
# A published test secret (never use it for a real endpoint): lets RMS developers check
# their verification against signed/ byte for byte.
EXAMPLE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - the spec's public vector
EXAMPLE_TIMESTAMP = 1795845603  # 2026-11-28T06:00:03Z

SOURCE = {"enum": ["model", "previous_model", "rule_based", "default"]}
NUM = {"type": "number"}
NUM_OR_NULL = {"type": ["number", "null"]}
INT_ID = {"type": "integer", "minimum": 1}
UTC_TS = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"}
LOCAL_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
LOCAL_TS = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z))?$",
}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object schema with these required and optional properties (extra ones allowed)."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def array(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An array of ``items``."""
    return {"type": "array", "items": items, **extra}


MODEL = obj(
    # version is null when no model version answered (rule-based or default rows only).
    {"name": {"type": "string"}, "version": {"type": ["string", "null"]}, "source": SOURCE},
    {"trained_at": {"anyOf": [UTC_TS, {"type": "null"}]}},
)
PART = {
    "type": "object",
    "required": ["index", "count"],
    "properties": {
        "index": {"type": "integer", "minimum": 1},
        "count": {"type": "integer", "minimum": 1},
    },
    "additionalProperties": False,
}
PREDICTION_COMMON = {
    "restaurant_id": {"type": ["integer", "null"]},
    "generated_at": UTC_TS,
    "as_of": UTC_TS,
    "model": MODEL,
    "part": PART,
}

POINT = obj({"ts": LOCAL_TS, "yhat": NUM, "lo_80": NUM, "hi_80": NUM, "lo_95": NUM, "hi_95": NUM})
SERIES = obj(
    {
        "target": {"enum": ["orders", "covers", "revenue", "menu_item"]},
        "menu_item_id": {"type": ["integer", "null"]},
        "source": SOURCE,
        "points": array(POINT),
    }
)
P50_P90 = {"p50_s": NUM, "p90_s": NUM}
# Additive extension of the contract (issue 7): each by_load and by_hour entry also
# carries the time at the station, so the RMS can look total time up by load bucket.
TOTALS = {"total_p50_s": NUM, "total_p90_s": NUM}
PREP = obj(
    {
        "station_id": INT_ID,
        "menu_item_id": INT_ID,
        "source": SOURCE,
        **P50_P90,
        "total_p50_s": NUM,
        "total_p90_s": NUM,
        "by_load": array(
            obj(
                {
                    "queue_min": {"type": "integer", "minimum": 0},
                    "queue_max": {"type": ["integer", "null"]},
                    **P50_P90,
                    **TOTALS,
                }
            )
        ),
        "by_hour": array(
            obj({"hour": {"type": "integer", "minimum": 0, "maximum": 23}, **P50_P90, **TOTALS})
        ),
    },
    # Additive extension: seconds to add to p50_s and total_p50_s (overall, bucket and
    # hour alike) per unit above quantity 1; a p90 below its p50 then takes the p50.
    # Rows from a model version only.
    {"per_extra_unit_s": {"type": "number", "minimum": 0}},
)
STATION_LOAD = obj(
    {
        "station_id": INT_ID,
        "ts": LOCAL_TS,
        "expected_tickets": NUM,
        "expected_wait_s": NUM,
        "bottleneck": {"type": "boolean"},
    }
)
# Where the station load forecast's hourly orders came from: the demand job's hourly
# forecast (stored for the same as_of, or computed on the spot) or, failing that, the
# same-weekday-hour mean of the last four weeks (rule_based; detail says why).
ORDERS_FORECAST = obj(
    {
        "source": {"enum": ["stored", "computed", "rule_based"]},
        "detail": {"type": ["string", "null"]},
    }
)
CUSTOMER = obj(
    {
        "customer_id": INT_ID,
        "churn_probability": {"type": "number", "minimum": 0, "maximum": 1},
        "expected_value_90d": NUM,
        "rfm_segment": {"type": "string"},
        "next_order_expected_by": {"anyOf": [LOCAL_DATE, {"type": "null"}]},
    }
)
CHURN_SCORES = {"type": "object", "additionalProperties": NUM}
CUSTOMER_METRICS = obj(
    {"churn_model": {"type": "string"}, "backtest": {"type": "boolean"}},
    {
        "auc": NUM,
        "brier": NUM,
        "log_loss": NUM,
        "holdout_cutoff": {"type": "string"},
        "n_holdout": {"type": "integer", "minimum": 0},
        "holdout_churn_rate": NUM_OR_NULL,
        "spend_model": {"enum": ["bgnbd_gg", "bgnbd_gg_seasonal"]},
        "spend_total_relative_error": NUM_OR_NULL,
        "baselines": {"type": "object", "additionalProperties": CHURN_SCORES},
    },
)
INVENTORY = obj(
    {
        "inventory_item_id": INT_ID,
        "on_hand": NUM,
        "daily_usage_forecast": array(NUM),
        "days_until_stockout": {"type": ["integer", "null"], "minimum": 0},
        "safety_stock": NUM,
        "reorder_point": NUM,
        "suggested_order_qty": {"type": "number", "minimum": 0},
        "expiring": array(
            obj({"batch_id": INT_ID, "expires_at": LOCAL_TS, "quantity_at_risk": NUM})
        ),
        "source": SOURCE,
    }
)
PRICING = obj(
    {
        "menu_item_id": INT_ID,
        "current_price": NUM,
        "unit_cost": NUM_OR_NULL,
        "elasticity": NUM_OR_NULL,
        "elasticity_interval": {"anyOf": [array(NUM, minItems=2, maxItems=2), {"type": "null"}]},
        "recommended_price": NUM,
        "expected_quantity_change_pct": NUM_OR_NULL,
        "expected_margin_change_pct": NUM_OR_NULL,
        "basis": {"enum": ["item", "category", "no_cost", "keep"]},
    },
    {
        "expected_quantity_change_interval": {
            "anyOf": [array(NUM, minItems=2, maxItems=2), {"type": "null"}]
        },
        "expected_margin_change_interval": {
            "anyOf": [array(NUM, minItems=2, maxItems=2), {"type": "null"}]
        },
        "source": SOURCE,
    },
)

DATA: dict[str, tuple[str, dict[str, Any]]] = {
    "demand.forecast.updated": (
        "Demand forecast for one restaurant and granularity (one set per supersede key).",
        obj(
            {
                **PREDICTION_COMMON,
                "granularity": {"enum": ["day", "hour"]},
                "horizon": {"type": "integer", "minimum": 1},
                "series": array(SERIES),
            },
            {"backtest": {"type": "object"}},
        ),
    ),
    "kitchen.prep_time.updated": (
        "Prep-time percentiles per station and dish, and expected station load.",
        obj(
            {**PREDICTION_COMMON, "prep_times": array(PREP), "station_load": array(STATION_LOAD)},
            {"backtest": {"type": ["object", "null"]}, "orders_forecast": ORDERS_FORECAST},
        ),
    ),
    "customer.scores.updated": (
        "Churn, value and segment per customer, by id only (no PII).",
        obj(
            {**PREDICTION_COMMON, "customers": array(CUSTOMER)},
            {"metrics": CUSTOMER_METRICS},
        ),
    ),
    "inventory.recommendations.updated": (
        "Stock-out horizon and reorder suggestion per inventory item.",
        obj({**PREDICTION_COMMON, "items": array(INVENTORY)}),
    ),
    "pricing.recommendations.updated": (
        "Price recommendation per menu item with its elasticity.",
        obj({**PREDICTION_COMMON, "items": array(PRICING)}),
    ),
    "model.trained": (
        "A model was trained: its new version, metrics, and whether it was promoted and why.",
        obj(
            {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "metrics": {"type": "object"},
                "promoted": {"type": "boolean"},
                "reason": {"type": "string"},
            },
            {
                "trained_at": UTC_TS,
                "run_id": {"type": ["string", "null"]},
                "previous_version": {"type": ["string", "null"]},
            },
        ),
    ),
    "webhook.test": (
        "A test delivery queued by `rms-ml-push endpoints ping NAME`.",
        obj(
            {"endpoint": {"type": "string"}, "message": {"type": "string"}, "sent_at": UTC_TS},
            {"sender_version": {"type": "string"}},
        ),
    ),
    "endpoint.disabled": (
        "Operational: an endpoint was disabled (410 Gone or an operator).",
        obj(
            {
                "endpoint": {"type": "string"},
                "reason": {"type": "string"},
                "status_code": {"type": ["integer", "null"]},
                "disabled_at": UTC_TS,
            }
        ),
    ),
    "message.dead": (
        "Operational: a message exhausted its retries.",
        obj(
            {
                "message_id": {"type": "string", "pattern": "^msg_[A-Za-z0-9_]+$"},
                "message_type": {"type": "string"},
                "endpoint": {"type": "string"},
                "attempts": {"type": "integer", "minimum": 1},
                "last_error": {"type": "string"},
                "dead_at": UTC_TS,
            }
        ),
    ),
}


def envelope_schema() -> dict[str, Any]:
    """The envelope every body shares."""
    return {
        "$schema": DRAFT,
        "$id": BASE_ID + "envelope.schema.json",
        "title": "rms-ml-push webhook envelope",
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "additionalProperties": False,
        "properties": {
            "type": {"enum": sorted(DATA)},
            "timestamp": UTC_TS,
            "data": {"type": "object"},
        },
    }


def event_schema(event_type: str) -> dict[str, Any]:
    """The full body schema of one event type."""
    title, data = DATA[event_type]
    return {
        "$schema": DRAFT,
        "$id": BASE_ID + f"{event_type}.schema.json",
        "title": event_type,
        "description": title,
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "additionalProperties": False,
        "properties": {"type": {"const": event_type}, "timestamp": UTC_TS, "data": data},
    }


def _common(
    restaurant_id: int | None,
    part: tuple[int, int] = (1, 1),
    *,
    name: str = "demand_forecasting",
    version: str = "1.4.0",
) -> dict[str, Any]:
    return {
        "restaurant_id": restaurant_id,
        "generated_at": "2026-11-28T06:00:01.004Z",
        "as_of": "2026-11-28T06:00:00Z",
        "model": {
            "name": name,
            "version": version,
            "trained_at": "2026-11-28T05:58:40Z",
            "source": "model",
        },
        "part": {"index": part[0], "count": part[1]},
    }


EXAMPLES: dict[str, dict[str, Any]] = {
    "demand.forecast.updated": {
        **_common(12),
        "granularity": "day",
        "horizon": 2,
        "series": [
            {
                "target": "orders",
                "menu_item_id": None,
                "source": "model",
                "points": [
                    {
                        "ts": "2026-11-28",
                        "yhat": 182.4,
                        "lo_80": 160.1,
                        "hi_80": 204.7,
                        "lo_95": 148.3,
                        "hi_95": 216.5,
                    },
                    {
                        "ts": "2026-11-29",
                        "yhat": 201.0,
                        "lo_80": 176.9,
                        "hi_80": 225.1,
                        "lo_95": 164.0,
                        "hi_95": 238.0,
                    },
                ],
            },
            {
                "target": "menu_item",
                "menu_item_id": 7,
                "source": "rule_based",
                "points": [
                    {
                        "ts": "2026-11-28",
                        "yhat": 21.0,
                        "lo_80": 15.0,
                        "hi_80": 27.0,
                        "lo_95": 12.0,
                        "hi_95": 30.0,
                    }
                ],
            },
        ],
        "backtest": {"orders": {"chosen": "AutoETS", "mase": 0.82, "baseline_mase": 1.0}},
    },
    "kitchen.prep_time.updated": {
        **_common(12),
        "model": {
            "name": "kitchen_performance-r12",
            "version": "1.4.0",
            "trained_at": "2026-11-28T05:58:40Z",
            "source": "model",
        },
        "prep_times": [
            {
                "station_id": 3,
                "menu_item_id": 7,
                "source": "model",
                "p50_s": 240.0,
                "p90_s": 420.0,
                "total_p50_s": 300.0,
                "total_p90_s": 600.0,
                "per_extra_unit_s": 85.0,
                "by_load": [
                    {
                        "queue_min": 0,
                        "queue_max": 2,
                        "p50_s": 220.0,
                        "p90_s": 380.0,
                        "total_p50_s": 250.0,
                        "total_p90_s": 430.0,
                    },
                    {
                        "queue_min": 3,
                        "queue_max": None,
                        "p50_s": 310.0,
                        "p90_s": 540.0,
                        "total_p50_s": 520.0,
                        "total_p90_s": 960.0,
                    },
                ],
                "by_hour": [
                    {
                        "hour": 12,
                        "p50_s": 260.0,
                        "p90_s": 450.0,
                        "total_p50_s": 340.0,
                        "total_p90_s": 640.0,
                    }
                ],
            }
        ],
        "station_load": [
            {
                "station_id": 3,
                "ts": "2026-11-28T07:00:00+01:00",
                "expected_tickets": 14.5,
                "expected_wait_s": 95.0,
                "bottleneck": False,
            }
        ],
        "orders_forecast": {"source": "stored", "detail": None},
        "backtest": {
            "metric": "mae_total_p50",
            "model": {"mae_total_p50": 118.7, "mae_total_p50_busy20": 185.5},
            "baseline": {
                "name": "median_per_station_item",
                "mae_total_p50": 149.9,
                "mae_total_p50_busy20": 282.9,
            },
        },
    },
    "customer.scores.updated": {
        **_common(None),
        "model": {
            "name": "customer_analytics",
            "version": "1.3.2",
            "trained_at": "2026-11-28T05:58:40Z",
            "source": "model",
        },
        "metrics": {
            "churn_model": "bgnbd_isotonic",
            "backtest": True,
            "auc": 0.81,
            "brier": 0.162,
            "log_loss": 0.49,
            "holdout_cutoff": "2026-08-30T06:00:00+00:00",
            "n_holdout": 5210,
            "holdout_churn_rate": 0.58,
            "spend_model": "bgnbd_gg_seasonal",
            "spend_total_relative_error": -0.04,
            "baselines": {
                "recency_rule": {"auc": 0.74, "brier": 0.27, "log_loss": 9.1},
                "recency_isotonic": {"auc": 0.77, "brier": 0.18, "log_loss": 0.54},
                "rfm": {"auc": 0.78, "brier": 0.176, "log_loss": 0.53},
            },
        },
        "customers": [
            {
                "customer_id": 981,
                "churn_probability": 0.37,
                "expected_value_90d": 142.5,
                "rfm_segment": "at_risk",
                "next_order_expected_by": "2026-12-04",
            }
        ],
    },
    "inventory.recommendations.updated": {
        **_common(12),
        "items": [
            {
                "inventory_item_id": 55,
                "on_hand": 12.0,
                "daily_usage_forecast": [4.1, 4.6, 5.0],
                "days_until_stockout": 2,
                "safety_stock": 3.2,
                "reorder_point": 16.5,
                "suggested_order_qty": 20.0,
                "expiring": [
                    {"batch_id": 901, "expires_at": "2026-11-30", "quantity_at_risk": 1.5}
                ],
                "source": "model",
            }
        ],
    },
    "pricing.recommendations.updated": {
        **_common(12, name="pricing_optimization", version="1.0.3"),
        "items": [
            {
                "menu_item_id": 7,
                "current_price": 12.5,
                "unit_cost": 3.1,
                "elasticity": -0.9,
                "elasticity_interval": [-1.147, -0.653],
                "recommended_price": 13.5,
                "expected_quantity_change_pct": -6.69,
                "expected_quantity_change_interval": [-8.45, -4.9],
                "expected_margin_change_pct": 3.23,
                "expected_margin_change_interval": [1.29, 5.21],
                "basis": "item",
                "source": "model",
            },
            {
                "menu_item_id": 9,
                "current_price": 6.9,
                "unit_cost": None,
                "elasticity": -1.02,
                "elasticity_interval": [-1.612, -0.428],
                "recommended_price": 6.9,
                "expected_quantity_change_pct": 0.0,
                "expected_quantity_change_interval": [0.0, 0.0],
                "expected_margin_change_pct": None,
                "expected_margin_change_interval": None,
                "basis": "no_cost",
                "source": "model",
            },
        ],
    },
    "model.trained": {
        "name": "demand_forecasting",
        "version": "1.4.0",
        "trained_at": "2026-11-28T05:58:40Z",
        "run_id": "run_8kq2",
        "metrics": {"mase": 0.82},
        "promoted": True,
        "reason": "MASE 0.82 beats the promoted 0.85 by more than 2 %",
        "previous_version": "1.3.0",
    },
    "webhook.test": {
        "endpoint": "rms",
        "message": "Test delivery from rms-ml-push.",
        "sent_at": "2026-11-28T06:00:03.120Z",
        "sender_version": "0.1.0",
    },
    "endpoint.disabled": {
        "endpoint": "rms",
        "reason": "HTTP 410 from the endpoint",
        "status_code": 410,
        "disabled_at": "2026-11-28T06:00:03.120Z",
    },
    "message.dead": {
        "message_id": "msg_2KqT9bA1xYz0",
        "message_type": "demand.forecast.updated",
        "endpoint": "rms",
        "attempts": 10,
        "last_error": "HTTP 500",
        "dead_at": "2026-11-28T06:00:03.120Z",
    },
}


def _dump(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    """Write every generated file."""
    sys.path.insert(0, str(HERE.parent / "src"))
    from rms_ml_push.delivery.payloads import canonical_json  # noqa: PLC0415
    from rms_ml_push.delivery.signing import sign  # noqa: PLC0415

    _dump(HERE / "schemas" / "envelope.schema.json", envelope_schema())
    for n, event_type in enumerate(sorted(DATA), start=1):
        _dump(HERE / "schemas" / f"{event_type}.schema.json", event_schema(event_type))
        body = {
            "type": event_type,
            "timestamp": "2026-11-28T06:00:03.120Z",
            "data": EXAMPLES[event_type],
        }
        _dump(HERE / "examples" / f"{event_type}.json", body)
        raw = canonical_json(body)
        msg_id = f"msg_example{n:02d}"
        signature = sign([EXAMPLE_SECRET], msg_id, EXAMPLE_TIMESTAMP, raw)
        request = (
            "POST /webhooks/rms-ml-push HTTP/1.1\r\nHost: rms.example\r\n"
            f"content-type: application/json\r\nuser-agent: rms-ml-push/0.1.0\r\n"
            f"webhook-id: {msg_id}\r\nwebhook-timestamp: {EXAMPLE_TIMESTAMP}\r\n"
            f"webhook-signature: {signature}\r\ncontent-length: {len(raw)}\r\n\r\n"
        ).encode() + raw
        (HERE / "signed" / f"{event_type}.http").write_bytes(request)


if __name__ == "__main__":
    main()
