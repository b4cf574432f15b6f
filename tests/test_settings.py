from pathlib import Path

import pytest

from app.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_readme(name: str) -> None:
    assert f"`FOILOG_{name.upper()}`" in README.read_text("utf-8")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOILOG_CACHE_MAX_AGE", "5")
    assert Settings().cache_max_age == 5
    monkeypatch.setenv("FOILOG_CACHE_MAX_AGE", "-1")
    with pytest.raises(ValueError, match="cache_max_age"):
        Settings()
