"""Inventory optimisation: consumption forecast, reorder policy, FEFO projection (issue 9).

Pure (numpy, pandas). Modules, in the order a job uses them::

    history.py      daily use per item: order lines x recipes, or movements (sale + waste)
    inputs.py       clean frames -> RestaurantInputs (histories) and ItemFacts (lots, labels)
    demand_path.py  menu-item demand forecast x recipes, intervals propagated
    smoothing.py    weekly-seasonal exponential smoothing and the same-weekday rule
    fit.py          choose per item by rolling-origin backtest; WAPE vs the baseline
    model.py        ConsumptionModel (registry object), rule_forecast (rule rung)
    stock.py        on hand at as_of, FEFO projection: days until stockout, expiring
    policy.py       safety stock, reorder point, order quantity, rounding
    output.py       contract rows of inventory.recommendations.updated
    simulate.py     day-by-day replay of a policy against the RMS's manual rule
"""
