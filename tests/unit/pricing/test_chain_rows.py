"""Fallback rungs of the pricing job and the rows they produce."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rms_ml_push.config import PricingSettings
from rms_ml_push.jobs.pricing import Value, _usable, rule_rung
from rms_ml_push.models.fallback import Rung, constant_rung, run_chain
from rms_ml_push.models.pricing.model import fit_pricing_model
from rms_ml_push.models.pricing.output import MenuItem, basis_counts, build_pricing_rows
from rms_ml_push.models.pricing.simulate import SimItem, simulate


def _broken(keys: Sequence[int]) -> Mapping[int, Value]:
    raise RuntimeError("model file failed its digest check")


def test_failed_model_falls_to_category_prior_then_rows_keep_or_move() -> None:
    """A failing model rung: items get this run's category prior (rule_based), none default."""
    items = [SimItem(i, -1.0, "main", base=20.0) for i in range(1, 6)]
    model = fit_pricing_model(simulate(items, seed=4), range(1, 6))
    rungs: list[Rung[int, Value]] = [
        Rung("model", _broken),
        rule_rung(model),
        constant_rung(None, label="keep_current_price"),
    ]
    chain = run_chain([1, 2, 3], rungs, usable=_usable)
    assert set(chain.sources.values()) == {"rule_based"}
    assert all(
        v is not None and v.estimate == model.priors["main"].mean for v in chain.values.values()
    )
    menu = [MenuItem(i, 1, 10.0, 3.0) for i in (1, 2, 3)] + [MenuItem(4, 1, 10.0, None)]
    rows = build_pricing_rows(menu, chain.values, chain.sources, PricingSettings())
    assert [r["menu_item_id"] for r in rows[1]] == [1, 2, 3, 4]
    assert rows[1][3]["basis"] == "no_cost"
    assert rows[1][3]["source"] == "default"
    assert sum(basis_counts(rows).values()) == 4


def test_default_rung_keeps_every_price() -> None:
    """Nothing above answers: elasticity null, basis keep, current price."""
    chain = run_chain([7], [constant_rung(None)], usable=_usable)
    rows = build_pricing_rows(
        [MenuItem(7, 2, 8.5, 2.0)], chain.values, chain.sources, PricingSettings()
    )
    row = rows[2][0]
    assert row["elasticity"] is None
    assert row["elasticity_interval"] is None
    assert (row["basis"], row["recommended_price"], row["source"]) == ("keep", 8.5, "default")
