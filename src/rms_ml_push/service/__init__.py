"""``rms-ml-push run``: scheduler, leader lease, worker pool, dispatcher, HTTP endpoint.

Read :mod:`rms_ml_push.service.app` for the start and stop order,
:mod:`rms_ml_push.service.protocols` for what the other parts must provide, and
:mod:`rms_ml_push.service.wiring` for where they are plugged in.
"""
