"""Synthetic RMS data for development, demos and evaluations (issue 2, item 7).

The only place rms-ml-push writes RMS-shaped tables. Layout::

    params.py     DemoConfig, restaurant specs, the embedded "true" parameters
    schema.py     the contract's tables (with PII columns) and the demo_truth_* side tables
    calendar.py   open days, daily demand multipliers, order timestamps (local -> UTC)
    menu.py       menu items, popularity, prices and price changes, true elasticities
    customers.py  BG/NBD-like customers: purchase rate, dropout, spend
    orders.py     orders, order lines, payments
    kitchen.py    stations as multi-server FIFO queues (load matters)
    inventory.py  ingredients, recipes, batches under a manual reorder rule, movements
    stock.py      inventory frames of one restaurant
    dirty.py      the contract's dirty-data kinds, injected and counted
    truth.py      the demo_truth_* frames
    restaurant.py one restaurant: simulate -> frames (deterministic per seed and index)
    arrays.py     frame conventions (NULL sentinel, ISO timestamps)
    writer.py     bulk writes: executemany (SQLite), COPY via csvtext.py (PostgreSQL)
    target.py     the writable engine for a demo URL
    generator.py  generate_demo / iter_restaurants: one restaurant at a time (bounded memory)
    run.py        ``make demo``
"""
