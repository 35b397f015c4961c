"""Settings: environment (``RMS_ML_*``, nested with ``__``) over an optional TOML file.

Build them once, at the edge, with :func:`load_settings`; pass the frozen object in.
Invalid settings raise :class:`~rms_ml_push.errors.ConfigError` with one line per
problem, named by the environment variable an operator would set.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from rms_ml_push.errors import ConfigError

ENV_PREFIX = "RMS_ML_"
CONFIG_FILE_ENV = "RMS_ML_CONFIG_FILE"

# Standard Webhooks' example schedule (webhook-contract.md, "Retries and the outbox").
DEFAULT_RETRY_SCHEDULE_S: tuple[float, ...] = (
    5,
    300,
    1800,
    7200,
    18000,
    36000,
    50400,
    72000,
    86400,
)
OPERATIONAL_EVENT_TYPES: tuple[str, ...] = ("endpoint.disabled", "message.dead")
_SQLALCHEMY_URL = re.compile(r"^(postgresql(\+psycopg)?|sqlite)://")
_ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

CANONICAL_TABLES: tuple[str, ...] = (
    "restaurants",
    "menu_items",
    "kitchen_stations",
    "customer_profiles",
    "orders",
    "order_items",
    "order_item_stations",
    "inventory_items",
    "inventory_batches",
    "recipe_components",
    "payments",
    "inventory_movements",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _secret_file_exists(value: Path | None) -> Path | None:
    """Field-level check, so a missing secret file is reported alongside other problems."""
    if value is not None and not value.is_file():
        raise ValueError(f"cannot read secret file {value}: no such file")
    return value


def _read_secret_file(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{what}: cannot read secret file {path}: {exc.strerror}") from exc


class RmsTables(_Section):
    """Actual table names for the contract's canonical names (Django: ``app_model``)."""

    restaurants: str = "restaurants"
    menu_items: str = "menu_items"
    kitchen_stations: str = "kitchen_stations"
    customer_profiles: str = "customer_profiles"
    orders: str = "orders"
    order_items: str = "order_items"
    order_item_stations: str = "order_item_stations"
    inventory_items: str = "inventory_items"
    inventory_batches: str = "inventory_batches"
    recipe_components: str = "recipe_components"
    payments: str = "payments"
    inventory_movements: str = "inventory_movements"

    @field_validator("*")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,126}", value):
            raise ValueError(f"not a valid table name: {value!r}")
        return value


class RmsSettings(_Section):
    """How the RMS database is read."""

    statement_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    connect_timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0
    busy_timeout_ms: Annotated[int, Field(ge=0)] = 5000
    pool_size: Annotated[int, Field(ge=1, le=50)] = 3
    chunk_rows: Annotated[int, Field(ge=1000)] = 100_000
    timestamp_floor: str = "1990-01-01"
    kitchen_max_duration_s: Annotated[float, Field(gt=0)] = 3 * 3600.0

    @field_validator("timestamp_floor")
    @classmethod
    def _floor(cls, value: str) -> str:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date: {value!r} (e.g. 1990-01-01)") from None
        return value


class HttpSettings(_Section):
    """The health/info/metrics endpoint."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    token: SecretStr | None = None
    token_file: Path | None = None

    _token_file_exists = field_validator("token_file")(_secret_file_exists)
    ready_cache_s: Annotated[float, Field(ge=0)] = 2.0

    @model_validator(mode="after")
    def _token_from_file(self) -> HttpSettings:
        if self.token is None and self.token_file is not None:
            token = _read_secret_file(self.token_file, "RMS_ML_HTTP__TOKEN_FILE")
            object.__setattr__(self, "token", SecretStr(token))
        return self


class EndpointSettings(_Section):
    """One webhook receiver."""

    name: str
    url: str
    secrets: list[SecretStr] = Field(default_factory=list)
    secrets_file: Path | None = None

    _secrets_file_exists = field_validator("secrets_file")(_secret_file_exists)
    event_types: list[str] = Field(default_factory=lambda: ["*"])
    timeout_s: Annotated[float, Field(ge=1, le=30)] = 15.0
    max_in_flight: Annotated[int, Field(ge=1, le=64)] = 4
    enabled: bool = True
    allow_insecure_http: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _ENDPOINT_NAME.match(value):
            raise ValueError(f"endpoint name {value!r}: use 1-64 of [A-Za-z0-9_.-]")
        return value

    @model_validator(mode="after")
    def _check(self) -> EndpointSettings:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"endpoint {self.name}: url must be http(s)://")
        if self.url.startswith("http://") and not self.allow_insecure_http:
            raise ValueError(
                f"endpoint {self.name}: url is plain http; use https, or set "
                "allow_insecure_http=true for loopback development"
            )
        if not self.secrets and self.secrets_file is not None:
            text = _read_secret_file(self.secrets_file, f"endpoint {self.name} secrets_file")
            found = [SecretStr(s) for s in text.split() if s]
            object.__setattr__(self, "secrets", found)
        if not self.secrets:
            raise ValueError(f"endpoint {self.name}: no secrets (set secrets or secrets_file)")
        for secret in self.secrets:
            if not secret.get_secret_value().startswith("whsec_"):
                raise ValueError(f"endpoint {self.name}: a secret does not start with whsec_")
        return self


class ServiceSettings(_Section):
    """``rms-ml-push run``: leader lease, worker pool, graceful stop."""

    stop_timeout_s: Annotated[float, Field(gt=0, le=600)] = 20.0
    lease_ttl_s: Annotated[float, Field(ge=1, le=600)] = 15.0
    lease_renew_s: Annotated[float, Field(gt=0, le=300)] = 5.0
    workers: Annotated[int, Field(ge=1, le=32)] = 1
    ready_check_timeout_s: Annotated[float, Field(gt=0, le=30)] = 2.0

    @model_validator(mode="after")
    def _renew_before_expiry(self) -> ServiceSettings:
        if self.lease_renew_s * 2 > self.lease_ttl_s:
            raise ValueError("lease_renew_s must be at most half of lease_ttl_s")
        return self


class DeliverySettings(_Section):
    """The outbox and its dispatcher."""

    retry_schedule_s: list[float] = Field(default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE_S))
    retry_jitter: Annotated[float, Field(ge=0, lt=1)] = 0.2
    max_body_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024
    response_excerpt_bytes: Annotated[int, Field(ge=0, le=65536)] = 4096
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 50
    workers: Annotated[int, Field(ge=1, le=64)] = 8
    lease_s: Annotated[float, Field(gt=0)] = 60.0
    poll_interval_s: Annotated[float, Field(gt=0)] = 1.0
    breaker_fail_max: Annotated[int, Field(ge=1)] = 5
    breaker_reset_s: Annotated[float, Field(gt=0)] = 30.0
    retention_days: Annotated[float, Field(gt=0)] = 30.0
    retry_after_cap_s: Annotated[float, Field(gt=0)] = 86400.0
    slow_down_min_s: Annotated[float, Field(ge=0)] = 60.0

    @field_validator("retry_schedule_s")
    @classmethod
    def _schedule(cls, value: list[float]) -> list[float]:
        if any(delay < 0 for delay in value):
            raise ValueError("retry delays must be >= 0 seconds")
        return value


class HolidaySettings(_Section):
    """Public holidays for calendar features; unset country means no holiday features."""

    country: str | None = None
    subdivision: str | None = None
    # Per-restaurant override: {"12": {"country": "DE", "subdivision": "BY"}}.
    restaurants: dict[int, dict[str, str | None]] = Field(default_factory=dict)


class ModelSettings(_Section):
    """Registry behaviour."""

    promotion_tolerance: Annotated[float, Field(ge=0, le=1)] = 0.02
    keep_versions: Annotated[int, Field(ge=1)] = 5


class KitchenSettings(_Section):
    """Size of the kitchen job's prep-time models (defaults: one restaurant's daily run)."""

    max_iter: Annotated[int, Field(ge=10, le=2000)] = 300
    max_train_rows: Annotated[int, Field(ge=1000)] = 60_000
    min_model_rows: Annotated[int, Field(ge=100)] = 2_000


class InventorySettings(_Section):
    """Reorder policy parameters."""

    service_level: Annotated[float, Field(gt=0.5, lt=1)] = 0.95
    review_period_days: Annotated[int, Field(ge=1, le=60)] = 7


class PricingSettings(_Section):
    """Guardrails for price recommendations."""

    max_change: Annotated[float, Field(gt=0, le=0.5)] = 0.10
    min_markup: Annotated[float, Field(ge=1)] = 1.5
    price_endings: list[float] = Field(default_factory=lambda: [0.0, 0.5, 0.9])
    # Control for the restaurant's orders of the day in the elasticity regression.
    traffic_control: bool = True


class Settings(BaseSettings):
    """Everything rms-ml-push can be told. See ``config/example.env``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    rms_url: SecretStr | None = None
    rms_url_file: Path | None = None
    rms_tables: RmsTables = Field(default_factory=RmsTables)
    rms: RmsSettings = Field(default_factory=RmsSettings)
    store_url: SecretStr = SecretStr("sqlite:///./var/store.sqlite3")
    model_dir: Path = Path("./var/models")
    log_format: Literal["json", "console", "auto"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    instance_id: str | None = None

    http: HttpSettings = Field(default_factory=HttpSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    endpoints: list[EndpointSettings] = Field(default_factory=list)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_secret_file: Path | None = None

    holidays: HolidaySettings = Field(default_factory=HolidaySettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    kitchen: KitchenSettings = Field(default_factory=KitchenSettings)
    inventory: InventorySettings = Field(default_factory=InventorySettings)
    pricing: PricingSettings = Field(default_factory=PricingSettings)
    schedule_file: Path | None = None
    schedule_timezone: str = "UTC"

    _files_exist = field_validator("rms_url_file", "webhook_secret_file")(_secret_file_exists)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("rms_url", "store_url")
    @classmethod
    def _db_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _check_db_url(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        if self.rms_url is None and self.rms_url_file is not None:
            url = _read_secret_file(self.rms_url_file, "RMS_ML_RMS_URL_FILE")
            object.__setattr__(self, "rms_url", SecretStr(url))
        if self.rms_url is not None:
            _check_db_url(self.rms_url.get_secret_value())
        self._add_convenience_endpoint()
        names = [e.name for e in self.endpoints]
        if len(names) != len(set(names)):
            raise ValueError("RMS_ML_ENDPOINTS: endpoint names must be unique")
        return self

    def _add_convenience_endpoint(self) -> None:
        if self.webhook_url is None:
            return
        secret = self.webhook_secret
        if secret is None and self.webhook_secret_file is not None:
            text = _read_secret_file(self.webhook_secret_file, "RMS_ML_WEBHOOK_SECRET_FILE")
            secret = SecretStr(text)
        if secret is None:
            raise ValueError("RMS_ML_WEBHOOK_URL is set but RMS_ML_WEBHOOK_SECRET is not")
        insecure = _is_loopback_http(self.webhook_url)
        endpoint = EndpointSettings(
            name="default",
            url=self.webhook_url,
            secrets=[secret],
            allow_insecure_http=insecure,
        )
        object.__setattr__(self, "endpoints", [*self.endpoints, endpoint])

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the TOML file; the file wins over defaults.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = settings_cls.model_config.get("toml_file")
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)

    def require_rms_url(self) -> str:
        """The RMS URL, or a ConfigError naming the variable to set."""
        if self.rms_url is None:
            raise ConfigError(
                [
                    "RMS_ML_RMS_URL: not set; this command reads the RMS database "
                    "(e.g. postgresql+psycopg://ml_reader@db:5432/rms)"
                ]
            )
        return self.rms_url.get_secret_value()


def _is_loopback_http(url: str) -> bool:
    return bool(re.match(r"^http://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(/|$)", url))


def _check_db_url(url: str) -> None:
    if not _SQLALCHEMY_URL.match(url):
        raise ValueError("unsupported URL (expected postgresql+psycopg://... or sqlite:///...)")
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - only when settings are built
    from sqlalchemy.exc import ArgumentError  # noqa: PLC0415

    try:
        make_url(url)
    except (ValueError, ArgumentError) as exc:  # a bad port is a ValueError
        # The parser's message may quote the URL, password included: never echo it.
        raise ValueError(f"not a valid database URL ({type(exc).__name__})") from None


def _problem_lines(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(part) for part in err["loc"]]
        message = str(err["msg"]).removeprefix("Value error, ")
        if loc:
            name = ENV_PREFIX + "__".join(p.upper() for p in loc)
            lines.append(f"{name}: {message}")
        else:
            lines.append(message)
    return lines


def load_settings(**overrides: Any) -> Settings:
    """Build settings from ``os.environ`` and the optional TOML file it names.

    Raises ConfigError with one line per problem.
    """
    config_file = os.environ.get(CONFIG_FILE_ENV)
    settings_cls: type[Settings] = Settings
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError([f"{CONFIG_FILE_ENV}: no such file: {path}"])
        settings_cls = type(
            "Settings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": path}}
        )
    try:
        return settings_cls(**overrides)
    except ValidationError as exc:
        raise ConfigError(_problem_lines(exc)) from None
    except ValueError as exc:  # a TOML syntax error surfaces as a ValueError subclass
        raise ConfigError([f"{config_file or 'settings'}: {exc}"]) from None


def mask_url(url: str) -> str:
    """Hide the password in a database or endpoint URL."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def effective_settings(settings: Settings) -> dict[str, Any]:
    """A JSON-able view of the settings with every secret masked."""
    data = settings.model_dump(mode="json")
    data["rms_url"] = mask_url(settings.rms_url.get_secret_value()) if settings.rms_url else None
    data["store_url"] = mask_url(settings.store_url.get_secret_value())
    data["webhook_secret"] = "**********" if settings.webhook_secret else None
    for endpoint in data["endpoints"]:
        endpoint["url"] = mask_url(endpoint["url"])
    return data
