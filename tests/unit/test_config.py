from pathlib import Path

import pytest

from retinue.config import LLMConfig, load_settings
from retinue.errors import ConfigError


def test_defaults_are_the_offline_embedded_model() -> None:
    settings = load_settings(None)
    assert settings.llm.provider == "embedded" and settings.llm.cache is True


def test_every_field_is_documented() -> None:
    assert all(field.description for field in LLMConfig.model_fields.values())


def test_toml_file_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "retinue.toml"
    path.write_text('[llm]\nprovider = "openai"\nmodel = "m"\ntemperature = 0.3\n')
    settings = load_settings(path, {"model": "override", "base_url": None})
    assert (settings.llm.provider, settings.llm.model, settings.llm.temperature) == ("openai", "override", 0.3)


def test_bad_values_name_the_field_and_the_allowed_values(tmp_path: Path) -> None:
    path = tmp_path / "retinue.toml"
    path.write_text('[llm]\nprovider = "gpt"\ntemperature = 5\nmystery = 1\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert "llm.provider" in message and "'embedded', 'openai' or 'scripted'" in message
    assert "llm.temperature" in message and "llm.mystery" in message


def test_broken_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "retinue.toml"
    path.write_text("[llm\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml")
