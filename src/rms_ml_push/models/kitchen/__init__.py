"""Kitchen performance: prep-time quantiles, the RMS lookup table, station load forecast.

Pure (pandas, numpy, scikit-learn). A job calls, per restaurant::

    features = build_features(clean_tickets, {restaurant_id: tz})   # see features.py
    fit = fit_kitchen(features, FitOptions())                         # model or rules rung
    prep_times = fit.table.to_prep_times()                            # contract rows
    profiles = station_profiles(fit, orders_in_history=n_orders)
    station_load = station_load_forecast(profiles, hourly_orders)     # contract rows
    evaluation, _ = evaluate_kitchen(features)                        # backtest metrics
"""

from rms_ml_push.models.kitchen.buckets import Bucket, bucket_index, choose_load_buckets
from rms_ml_push.models.kitchen.evaluate import (
    Split,
    busy_mask,
    evaluation_table,
    pinball_loss,
    time_split,
)
from rms_ml_push.models.kitchen.features import (
    FEATURES,
    TICKET_COLUMNS,
    UncleanTicketsError,
    build_features,
    check_clean_tickets,
)
from rms_ml_push.models.kitchen.fit import (
    FitOptions,
    KitchenFit,
    evaluate_kitchen,
    fit_kitchen,
    holdout_predictions,
)
from rms_ml_push.models.kitchen.load import station_load_at_arrival
from rms_ml_push.models.kitchen.quantile_model import (
    KitchenModel,
    ModelParams,
    calibrate,
    fit_kitchen_model,
)
from rms_ml_push.models.kitchen.rules import MedianRung, fit_median_rung
from rms_ml_push.models.kitchen.station_forecast import (
    StationProfile,
    station_load_forecast,
    station_profiles,
)
from rms_ml_push.models.kitchen.table import LookupTable
from rms_ml_push.models.kitchen.table_build import (
    build_model_table,
    build_rule_table,
    calibrate_table,
)

__all__ = [
    "FEATURES",
    "TICKET_COLUMNS",
    "Bucket",
    "FitOptions",
    "KitchenFit",
    "KitchenModel",
    "LookupTable",
    "MedianRung",
    "ModelParams",
    "Split",
    "StationProfile",
    "UncleanTicketsError",
    "bucket_index",
    "build_features",
    "build_model_table",
    "build_rule_table",
    "busy_mask",
    "calibrate",
    "calibrate_table",
    "check_clean_tickets",
    "choose_load_buckets",
    "evaluate_kitchen",
    "evaluation_table",
    "fit_kitchen",
    "fit_kitchen_model",
    "fit_median_rung",
    "holdout_predictions",
    "pinball_loss",
    "station_load_at_arrival",
    "station_load_forecast",
    "station_profiles",
    "time_split",
]
