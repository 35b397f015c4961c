"""Synthetic RMS data for development, demos and evaluations (issue 2, item 7).

The only place rms-ml-push writes RMS-shaped tables. Layout::

    params.py     DemoConfig, restaurant specs, the embedded "true" parameters
    schema.py     the contract's tables (with PII columns) and the demo_truth_* side tables
    calendar.py   open days, daily demand multipliers, order timestamps (local -> UTC)
    menu.py       menu items, popularity, prices and price changes, true elasticities
    customers.py  BG/NBD-like customers: purchase rate, dropout, spend
    orders.py     orders, order lines, payments
    kitchen.py    stations and a multi-server FIFO queue per station (load matters)
    inventory.py  ingredients, recipes, batches under a manual reorder rule, movements
    dirty.py      the contract's dirty-data kinds, injected and counted
    writer.py     bulk writes: executemany (SQLite), COPY (PostgreSQL)
    generator.py  one restaurant at a time: generate -> write (bounded memory)
    run.py        ``make demo``
"""
