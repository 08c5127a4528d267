"""The README documents every environment variable the settings read."""

from pathlib import Path

from django.conf import settings

from hub.env import DOCUMENTED


def test_every_setting_variable_is_in_the_readme():
    assert settings.configured and len(DOCUMENTED) > 20  # the settings module has been read
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = sorted(name for name in DOCUMENTED if f"`{name}`" not in readme)
    assert missing == [], f"README lacks: {missing}"
