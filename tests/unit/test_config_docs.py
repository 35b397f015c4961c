"""config/example.env and config/settings.example.toml document every setting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from rms_ml_push.config import CONFIG_FILE_ENV, EndpointSettings, Settings, load_settings

CONFIG = Path(__file__).resolve().parents[2] / "config"


def _env_names(model: type[BaseModel], prefix: str) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            names.extend(_env_names(ann, f"{prefix}{name.upper()}__"))
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_example_env_mentions_every_setting() -> None:
    """Every Settings field (nested ones by their RMS_ML_X__Y name) appears in example.env."""
    text = (CONFIG / "example.env").read_text()
    mentioned = set(re.findall(r"\bRMS_ML_[A-Z0-9_]+", text))
    missing = [n for n in _env_names(Settings, "RMS_ML_") if n not in mentioned]
    assert missing == []
    endpoint_keys = [n.lower() for n in _env_names(EndpointSettings, "")]
    assert [k for k in endpoint_keys if k not in text] == []
    assert CONFIG_FILE_ENV in mentioned


def test_example_env_names_only_real_settings() -> None:
    """No variable in example.env is unknown to Settings (a typo would be ignored silently)."""
    text = (CONFIG / "example.env").read_text()
    known = {*_env_names(Settings, "RMS_ML_"), CONFIG_FILE_ENV}
    assert set(re.findall(r"\bRMS_ML_[A-Z0-9_]+", text)) - known == set()


def test_settings_example_toml_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example TOML loads through load_settings and sets what it shows."""
    monkeypatch.delenv("RMS_ML_STORE_URL")
    monkeypatch.setenv(CONFIG_FILE_ENV, str(CONFIG / "settings.example.toml"))
    settings = load_settings()
    assert settings.rms_tables.orders == "orders_order"
    assert settings.rms.timestamp_floor == "1990-01-01"
    assert settings.endpoints[0].name == "rms"
    assert settings.holidays.restaurants[2] == {"country": "US", "subdivision": "NY"}
    assert settings.store_url.get_secret_value() == "sqlite:///./var/store.sqlite3"


def test_toml_mentions_every_section_field() -> None:
    """Every field of every section appears in settings.example.toml (maybe commented)."""
    text = (CONFIG / "settings.example.toml").read_text()
    keys = [n.lower() for n in _env_names(Settings, "")]
    missing = [k for k in keys if k.split("__")[-1] not in text]
    assert missing == []


def test_env_wins_over_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment variable overrides the same setting in the TOML file."""
    monkeypatch.setenv(CONFIG_FILE_ENV, str(CONFIG / "settings.example.toml"))
    monkeypatch.setenv("RMS_ML_RMS_TABLES__ORDERS", "sales_order")
    monkeypatch.setenv("RMS_ML_RMS__POOL_SIZE", "7")
    settings = load_settings()
    assert settings.rms_tables.orders == "sales_order"
    assert settings.rms_tables.payments == "payments_payment"
    assert settings.rms.pool_size == 7
