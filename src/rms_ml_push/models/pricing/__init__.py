"""Pricing optimisation (issue 10), pure: unit costs, calendar controls, elasticities with
partial pooling toward the category, margin-maximising recommendations under guardrails,
and the held-out evaluation.

    cost.py        unit cost per menu item from recipes x inventory unit costs
    controls.py    day of week, Fourier seasonality, trend, holidays; closing days
    daily.py       per-item daily quantity and average price actually charged
    elasticity.py  Poisson log-log regression of one item (IRLS, cluster-robust s.e.)
    shrinkage.py   empirical-Bayes pooling of item estimates toward the category
    model.py       the fitted table (PricingModel) and fit_pricing_model
    recommend.py   guardrails: cap, floor, price endings, keep when direction unknown
    output.py      contract rows of ``pricing.recommendations.updated``
    evaluate.py    hold out each item's latest price change, score predicted responses
    simulate.py    synthetic item series with a known elasticity (tests, bench)
"""
