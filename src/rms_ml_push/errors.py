"""The one exception tree of rms-ml-push.

Every error the service raises on purpose derives from :class:`RmsMlPushError`; callers
catch the intermediate bases, and the CLI maps them to exit codes (2 for usage and
configuration, 1 for everything else)::

    RmsMlPushError
    ├── ConfigError ................ bad settings; carries one line per problem (exit 2)
    ├── RmsError ................... the RMS database (read side)
    │   ├── RmsUnavailableError .... cannot connect / timed out
    │   └── RmsSchemaError ......... a contract table or column is missing
    ├── StoreError ................. the service's own store
    │   ├── LeaseLostError ......... a lease we held was taken over
    │   └── SlotTakenError ......... another run owns (job, as_of)
    │       └── SlotDoneError ...... the slot already has a successful run
    ├── DeliveryError .............. building or sending webhooks
    │   ├── PayloadTooLargeError ... a body above the size limit (split it)
    │   ├── UnknownEndpointError ... an endpoint name not in settings
    │   └── SigningError ........... a malformed secret
    ├── ModelError ................. registry and model code
    │   ├── ModelIntegrityError .... a file's sha256 does not match the store's record
    │   ├── ModelNotFoundError ..... no such model or version
    │   └── FitError ............... a model could not be fitted on a series
    └── JobError ................... orchestration of a job run

Messages never contain secrets or PII: they name the setting, endpoint, job or run.
"""

from __future__ import annotations

from collections.abc import Sequence


class RmsMlPushError(Exception):
    """Something rms-ml-push could not do; the message says what and what to try."""


class ConfigError(RmsMlPushError):
    """The settings are invalid: one problem per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems) or "invalid configuration")


class RmsError(RmsMlPushError):
    """The RMS database could not be read."""


class RmsUnavailableError(RmsError):
    """The RMS database did not answer (down, unreachable or timed out)."""


class RmsSchemaError(RmsError):
    """The RMS database lacks a table or column that the data contract requires."""


class StoreError(RmsMlPushError):
    """The service's own store failed."""


class LeaseLostError(StoreError):
    """A lease this instance held has expired or was taken over."""


class SlotTakenError(StoreError):
    """Another run already owns this (job, as_of) slot."""


class SlotDoneError(SlotTakenError):
    """The (job, as_of) slot already has a successful run; force a re-run to repeat it."""


class DeliveryError(RmsMlPushError):
    """A webhook could not be built, enqueued or sent."""


class PayloadTooLargeError(DeliveryError):
    """A webhook body exceeds the size limit; split the results into parts."""


class UnknownEndpointError(DeliveryError):
    """An endpoint name that the settings do not define."""


class SigningError(DeliveryError):
    """An endpoint secret is not a valid ``whsec_`` base64 secret."""


class ModelError(RmsMlPushError):
    """A model could not be trained, saved or loaded."""


class ModelIntegrityError(ModelError):
    """A model file's sha256 differs from the digest the store recorded at save time."""


class ModelNotFoundError(ModelError):
    """The registry has no such model name or version."""


class FitError(ModelError):
    """A model could not be fitted to a series; the fallback chain takes over."""


class JobError(RmsMlPushError):
    """A job run failed; the run record carries the reason."""
